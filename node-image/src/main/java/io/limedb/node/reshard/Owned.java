package io.limedb.node.reshard;

import io.limedb.api.v1.Range;
import io.limedb.api.v1.RangeOwnership;
import io.limedb.core.ring.RangeSet;
import io.limedb.core.ring.RingRange;
import java.util.List;

/** The ring ranges a shard owns, at a ring version: client requests for other keys answer MOVED. */
public record Owned(long ringVersion, RangeSet ranges) {

    public boolean owns(long position) {
        return ranges.contains(position);
    }

    public static Owned fromProto(RangeOwnership o) {
        return new Owned(o.getRingVersion(), RangeSet.of(fromProto(o.getRangesList())));
    }

    public RangeOwnership toProto() {
        return RangeOwnership.newBuilder().setRingVersion(ringVersion).addAllRanges(toProto(ranges.ranges())).build();
    }

    public static List<RingRange> fromProto(List<Range> ranges) {
        return ranges.stream().map(r -> new RingRange(r.getStartExclusive(), r.getEndInclusive())).toList();
    }

    public static List<Range> toProto(List<RingRange> ranges) {
        return ranges.stream().map(r -> Range.newBuilder().setStartExclusive(r.startExclusive())
                .setEndInclusive(r.endInclusive()).build()).toList();
    }
}
