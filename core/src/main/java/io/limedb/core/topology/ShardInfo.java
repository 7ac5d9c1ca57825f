package io.limedb.core.topology;

import java.util.List;
import java.util.Objects;

/** A shard: its id, the epoch of its current primary, and its members. */
public record ShardInfo(String id, long epoch, List<Member> members) {
    public ShardInfo {
        if (id == null || id.isBlank()) throw new IllegalArgumentException("shard id must not be empty");
        Objects.requireNonNull(members, "members");
        if (members.isEmpty()) throw new IllegalArgumentException("shard " + id + " has no members");
        if (epoch < 0) throw new IllegalArgumentException("shard " + id + " has a negative epoch");
        members = List.copyOf(members);
        long primaries = members.stream().filter(m -> m.role() == Role.PRIMARY).count();
        if (primaries != 1) {
            throw new IllegalArgumentException("shard " + id + " must have exactly one primary, has " + primaries);
        }
    }

    public Member primary() {
        return members.stream().filter(m -> m.role() == Role.PRIMARY).findFirst().orElseThrow();
    }
}
