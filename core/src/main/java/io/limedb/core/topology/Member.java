package io.limedb.core.topology;

import java.util.Objects;

/** One node of a shard: its gRPC address (host:port) and role. */
public record Member(String id, String address, Role role) {
    public Member {
        Objects.requireNonNull(address, "member address");
        Objects.requireNonNull(role, "member role");
        if (id == null || id.isBlank()) id = address;
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("member address must be host:port, got '" + address + "'");
        }
        try {
            int port = Integer.parseInt(address.substring(colon + 1));
            if (port < 1 || port > 65535) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member address has an invalid port: '" + address + "'");
        }
    }
}
