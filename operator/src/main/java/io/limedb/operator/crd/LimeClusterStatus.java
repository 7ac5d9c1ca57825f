package io.limedb.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed. Ready is never reported for a generation it has not reconciled. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LimeClusterStatus {

    @JsonPropertyDescription("Creating, Running, Resharding (spec.shards is being applied: shards added, data "
            + "moved, shards removed), Degraded, Failed or Paused.")
    public String phase;

    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;

    @JsonPropertyDescription("Ready, Available, Progressing and Degraded, each with a reason and a message.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("Shards whose primary serves and whose members are all ready.")
    public Integer readyShards;

    @JsonPropertyDescription("Shards that exist (the scale subresource's replicas).")
    @StatusReplicas
    public Integer currentShards;

    @JsonPropertyDescription("readyShards/shards, for kubectl get.")
    public String ready;

    @JsonPropertyDescription("Version of the published topology (ring, members, primaries, epochs).")
    public Long ringVersion;

    @JsonPropertyDescription("Where clients connect: the coordinator Service's RESP address.")
    public String coordinatorEndpoint;

    @JsonPropertyDescription("Per shard: its primary, epoch, ready members and replication lag.")
    public List<ShardStatus> shards = new ArrayList<>();

    @JsonPropertyDescription("The change of spec.shards under way (shards added, ring ranges moved, shards "
            + "removed), or refused; absent when the ring is spec.shards'.")
    public ReshardingStatus resharding;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ReshardingStatus {
        @JsonPropertyDescription("Shards in the ring in force.")
        public Integer from;
        @JsonPropertyDescription("Shards being moved to.")
        public Integer to;
        @JsonPropertyDescription("AddingShards (new shards' pods, then their first primary), Starting, Moving (ring "
                + "ranges copied, then flipped one pair of shards at a time), RollingBack (spec.shards went back to the "
                + "count being moved from), RemovingShards (emptied shards leave the topology, then their StatefulSets "
                + "go) or Refused.")
        public String step;
        @JsonPropertyDescription("Ring ranges whose ownership flipped to their new shard.")
        public Integer rangesMoved;
        @JsonPropertyDescription("Ring ranges that change owner in this resharding.")
        public Integer rangesTotal;
        @JsonPropertyDescription("Keys copied to the new owners so far.")
        public Long keys;
        @JsonPropertyDescription("Bytes of keys and values copied to the new owners so far.")
        public Long bytes;
        @JsonPropertyDescription("A later spec.shards, applied once this resharding is done.")
        public Integer queuedShards;
        @JsonPropertyDescription("One line for kubectl get, e.g. 3->4 120/216 (ranges moved of total).")
        public String summary;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ShardStatus {
        @JsonPropertyDescription("Shard id, e.g. shard-0.")
        public String name;
        @JsonPropertyDescription("Pod name of the primary; empty while the shard has none.")
        public String primary;
        @JsonPropertyDescription("Epoch of the current primary; it grows with every failover.")
        public Long epoch;
        @JsonPropertyDescription("Members whose pod is ready.")
        public Integer readyReplicas;
        @JsonPropertyDescription("Records the furthest-behind replica lags the primary by.")
        public Long maxLagRecords;

        public ShardStatus() {}

        public ShardStatus(String name, String primary, long epoch, int readyReplicas, long maxLagRecords) {
            this.name = name;
            this.primary = primary;
            this.epoch = epoch;
            this.readyReplicas = readyReplicas;
            this.maxLagRecords = maxLagRecords;
        }
    }
}
