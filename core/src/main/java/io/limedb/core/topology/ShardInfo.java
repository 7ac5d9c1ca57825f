package io.limedb.core.topology;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A shard: its id, the epoch of its current primary, and its members, exactly one of them named
 * primary. Epoch 0 means the shard never had a primary: the one named is a placeholder until the
 * first election.
 */
public record ShardInfo(String id, long epoch, List<Member> members) {
    public ShardInfo {
        if (id == null || id.isBlank()) throw new IllegalArgumentException("shard id must not be empty");
        Objects.requireNonNull(members, "members");
        if (members.isEmpty()) throw new IllegalArgumentException("shard " + id + " has no members");
        if (epoch < 0) throw new IllegalArgumentException("shard " + id + " has a negative epoch");
        members = List.copyOf(members);
        if (members.stream().map(Member::id).distinct().count() != members.size()) {
            throw new IllegalArgumentException("shard " + id + " lists a member twice");
        }
        for (Member m : members) {
            if (m.role() != Role.PRIMARY && m.role() != Role.REPLICA) {
                throw new IllegalArgumentException("member " + m.id() + " of shard " + id
                        + " must be primary or replica in a topology, not " + m.role());
            }
        }
        long primaries = members.stream().filter(m -> m.role() == Role.PRIMARY).count();
        if (primaries != 1) {
            throw new IllegalArgumentException("shard " + id + " must have exactly one primary, has " + primaries);
        }
    }

    public Member primary() {
        return members.stream().filter(m -> m.role() == Role.PRIMARY).findFirst().orElseThrow();
    }

    public List<String> memberIds() {
        return members.stream().map(Member::id).toList();
    }

    public Optional<Member> member(String memberId) {
        return members.stream().filter(m -> m.id().equals(memberId)).findFirst();
    }

    /** This shard with {@code memberId} as its primary at {@code newEpoch}, every other member a replica. */
    public ShardInfo withPrimary(String memberId, long newEpoch) {
        if (member(memberId).isEmpty()) {
            throw new IllegalArgumentException("shard " + id + " has no member " + memberId);
        }
        var ms = members.stream().map(m -> new Member(m.id(), m.address(),
                m.id().equals(memberId) ? Role.PRIMARY : Role.REPLICA)).toList();
        return new ShardInfo(id, newEpoch, ms);
    }
}
