package io.limedb.api.members;

import io.limedb.api.v1.MemberRole;
import io.limedb.core.topology.Role;

/** The member role on the wire ({@link MemberRole}) and in the code ({@link Role}): one converts to the other here. */
public final class RoleWire {
    private RoleWire() {}

    public static MemberRole toWire(Role r) {
        return switch (r) {
            case PRIMARY -> MemberRole.PRIMARY;
            case REPLICA -> MemberRole.REPLICA;
            case STANDALONE -> MemberRole.STANDALONE;
            case UNKNOWN -> MemberRole.ROLE_UNKNOWN;
        };
    }

    public static Role fromWire(MemberRole r) {
        return switch (r) {
            case PRIMARY -> Role.PRIMARY;
            case REPLICA -> Role.REPLICA;
            case STANDALONE -> Role.STANDALONE;
            case ROLE_UNKNOWN, UNRECOGNIZED -> Role.UNKNOWN;
        };
    }
}
