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

    @JsonPropertyDescription("Creating, Running, Degraded, Failed or Paused.")
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
