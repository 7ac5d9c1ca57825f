package io.limedb.core.failover;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which replicas surely hold every write acknowledged in sync mode. A primary acknowledges a write
 * once minInSync-1 of its R replicas applied it, so any R-(minInSync-1)+1 replicas include one that
 * has it; among that many reports, the most caught-up (by epoch of its last record, then seq) holds
 * every acknowledged write. With fewer reports nobody can be proven complete.
 */
public final class AckQuorum {

    /** A replica's log position as it reported it. */
    public record Position(String memberId, boolean reachable, long lastEpoch, long lastSeq) {}

    private AckQuorum() {}

    /** Reports needed before promoting in sync mode. */
    public static int reportsNeeded(int replicas, int minInSync) {
        return Math.max(1, replicas - (minInSync - 1) + 1);
    }

    /** Members proven to hold every acknowledged write; empty when too few replicas reported. */
    public static Set<String> complete(List<Position> replicas, int minInSync) {
        var reachable = replicas.stream().filter(Position::reachable).toList();
        if (reachable.size() < reportsNeeded(replicas.size(), minInSync)) return Set.of();
        var best = reachable.stream().map(p -> new long[] {p.lastEpoch(), p.lastSeq()})
                .max((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1])).orElseThrow();
        return reachable.stream().filter(p -> p.lastEpoch() == best[0] && p.lastSeq() == best[1])
                .map(Position::memberId).collect(Collectors.toUnmodifiableSet());
    }
}
