package io.limedb.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.List;
import java.util.Map;

/**
 * What the user asks for. Defaults are applied by the API server (they are in the CRD's schema), and so is
 * validation: bounds, enums and CEL rules whose messages say what to change (CrdValidationIT proves each one).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
// minInSync defaults to 2 and is not lowered silently for a single-member shard: a user who asks for no redundancy
// says so with minInSync: 1, and the message tells them exactly that. Messages are constant: a messageExpression
// with string(int) is rejected by the API server's CEL cost estimate.
@ValidationRule(value = "self.replication.minInSync <= self.replicasPerShard",
        fieldPath = ".replication.minInSync",
        message = "replication.minInSync (default 2) must be <= replicasPerShard: set replication.minInSync to at most "
                + "replicasPerShard (1 with a single member per shard), or raise replicasPerShard")
public class LimeClusterSpec {

    @JsonPropertyDescription("Number of shards (1-256). Each shard is a StatefulSet of replicasPerShard pods; "
            + "the ring spreads keys over them. Also set by `kubectl scale lime/NAME --replicas=N`.")
    @Min(1)
    @Max(256)
    @Default("3")
    @SpecReplicas
    public Integer shards = 3;

    @JsonPropertyDescription("Members per shard (1-7): one primary and replicasPerShard-1 replicas.")
    @Min(1)
    @Max(7)
    @Default("3")
    public Integer replicasPerShard = 3;

    @JsonPropertyDescription("Container image of the LimeDB node (shards and coordinators). "
            + "Empty: the operator's default image.")
    public String image;

    @JsonPropertyDescription("Image pull policy of the node containers: Always, IfNotPresent or Never.")
    @Default("IfNotPresent")
    @SchemaFrom(type = ImagePullPolicy.class)
    public String imagePullPolicy = "IfNotPresent";

    @JsonPropertyDescription("Persistent storage of each shard member (one PVC per pod).")
    @Default("{}")
    public Storage storage = new Storage();

    /**
     * cpu and memory of resources are quantities: refused on create and update with a message that says so.
     * The operator reads resources as strings as well ({@link ContainerResources}), so one stored before this rule
     * is that cluster's InvalidSpec status, not a stop of the watch of every LimeCluster.
     */
    static final String QUANTITIES = "(!has(self.limits) || ((!('memory' in self.limits) || isQuantity(string(self.limits['memory']))) && (!('cpu' in self.limits) || isQuantity(string(self.limits['cpu']))))) && (!has(self.requests) || ((!('memory' in self.requests) || isQuantity(string(self.requests['memory']))) && (!('cpu' in self.requests) || isQuantity(string(self.requests['cpu'])))))";
    static final String QUANTITIES_MESSAGE = "cpu and memory in resources.limits and resources.requests must be quantities "
            + "such as 512Mi, 1Gi, 500m or 2";

    @ValidationRule(value = QUANTITIES, message = QUANTITIES_MESSAGE)
    @JsonPropertyDescription("CPU and memory of each shard member's container. A shard sizes its heap (a quarter), "
            + "block cache, value cache and memtables from limits.memory: give it 512Mi or more (1Gi or more for "
            + "caches that hold a useful share of the data); below ~290Mi it warns that it may be killed for memory.")
    public ContainerResources resources;

    @JsonPropertyDescription("The coordinators: stateless routers speaking RESP, REST and gRPC.")
    @Default("{}")
    public Coordinator coordinator = new Coordinator();

    @JsonPropertyDescription("How writes are replicated inside a shard and what a failover may promote.")
    @Default("{}")
    public Replication replication = new Replication();

    @JsonPropertyDescription("Virtual nodes per shard on the consistent-hash ring (1-4096); more spread keys "
            + "more evenly. Changing it moves keys: set it at creation.")
    @Min(1)
    @Max(4096)
    @Default("256")
    @ValidationRule(value = "self == oldSelf",
            message = "vnodesPerShard is immutable (it decides where every key lives): set it back to its value at "
                    + "creation")
    public Integer vnodesPerShard = 256;

    @JsonPropertyDescription("Automatic failover when a shard's primary is lost.")
    @Default("{}")
    public Failover failover = new Failover();

    @JsonPropertyDescription("Node selector for shard and coordinator pods.")
    public Map<String, String> nodeSelector;

    @JsonPropertyDescription("Tolerations for shard and coordinator pods.")
    public List<Toleration> tolerations;

    @JsonPropertyDescription("Affinity of shard pods. Empty: a preferred anti-affinity spreads a shard's members "
            + "over nodes.")
    public Affinity affinity;

    @JsonPropertyDescription("Topology spread constraints of shard pods.")
    public List<TopologySpreadConstraint> topologySpreadConstraints;

    @JsonPropertyDescription("Priority class of shard and coordinator pods.")
    public String priorityClassName;

    /**
     * What in this spec the operator cannot build objects from, each with its path (e.g. {@code
     * spec.resources.limits.memory: "x" is not a quantity ...}); empty when nothing. The CRD refuses all of these
     * on create and update; this catches objects stored before a rule existed.
     */
    public List<String> problems() {
        var found = new java.util.ArrayList<String>();
        if (resources != null) found.addAll(resources.problems("spec.resources"));
        if (coordinator != null && coordinator.resources != null) {
            found.addAll(coordinator.resources.problems("spec.coordinator.resources"));
        }
        return found;
    }

    /** Values of {@link #imagePullPolicy} (the CRD's enum; the field stays a string). */
    public enum ImagePullPolicy { Always, IfNotPresent, Never }

    // Both rules compare with the stored object, so they sit on the object: a rule on storageClassName itself
    // would not run when it was unset and gets set. Transition rules never run on create.
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "has(self.storageClassName) == has(oldSelf.storageClassName)"
            + " && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)",
            fieldPath = ".storageClassName",
            message = "storage.storageClassName is immutable: keep its value at creation (unset stays unset); "
                    + "a new cluster can use another class",
            messageExpression = "'storage.storageClassName is immutable: ' + (has(oldSelf.storageClassName)"
                    + " ? 'keep \"' + oldSelf.storageClassName + '\"'"
                    + " : 'it was unset at creation (the cluster default), leave it unset')"
                    + " + '; a new cluster can use another class'")
    @ValidationRule(value = "!isQuantity(self.size) || !isQuantity(oldSelf.size)"
            + " || quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0",
            fieldPath = ".size",
            message = "storage.size cannot shrink: set it to at least its current size",
            messageExpression = "'storage.size cannot shrink: set it to at least ' + oldSelf.size")
    public static class Storage {
        @JsonPropertyDescription("Size of each member's volume, e.g. 10Gi. May grow (where the storage class "
                + "allows expansion), never shrink.")
        @Default("1Gi")
        @Size(max = 32)
        @io.fabric8.generator.annotation.Pattern("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
        @ValidationRule(value = "!isQuantity(self) || quantity(self).isGreaterThan(quantity('0'))",
                message = "storage.size must be a positive quantity such as 10Gi")
        public String size = "1Gi";

        @JsonPropertyDescription("StorageClass of the volumes; empty: the cluster's default. Immutable.")
        @Size(max = 253)
        public String storageClassName;

        @JsonPropertyDescription("What happens to the volumes when the LimeCluster is deleted: Retain (default: "
                + "the data stays, and a cluster of the same name adopts it) or Delete.")
        @Default("Retain")
        @SchemaFrom(type = WhenDeleted.class)
        public String whenDeleted = "Retain";

        /** Values of {@link #whenDeleted}. */
        public enum WhenDeleted { Retain, Delete }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Coordinator {
        @JsonPropertyDescription("Coordinator pods (0-64).")
        @Min(0)
        @Max(64)
        @Default("2")
        public Integer replicas = 2;

        @JsonPropertyDescription("Type of the coordinator Service: ClusterIP, NodePort or LoadBalancer.")
        @Default("ClusterIP")
        @SchemaFrom(type = ServiceType.class)
        public String serviceType = "ClusterIP";

        @JsonPropertyDescription("Ports of the coordinator Service.")
        @Default("{}")
        public Ports ports = new Ports();

        @JsonPropertyDescription("CPU and memory of each coordinator container.")
        @ValidationRule(value = QUANTITIES, message = QUANTITIES_MESSAGE)
        public ContainerResources resources;

        /** Values of {@link #serviceType}. */
        public enum ServiceType { ClusterIP, NodePort, LoadBalancer }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Ports {
        @JsonPropertyDescription("Redis protocol (RESP) port.")
        @Min(1)
        @Max(65535)
        @Default("6379")
        public Integer resp = 6379;

        @JsonPropertyDescription("REST port (/api/v1/kv/KEY).")
        @Min(1)
        @Max(65535)
        @Default("8080")
        public Integer http = 8080;

        @JsonPropertyDescription("gRPC port (limedb.v1.KV).")
        @Min(1)
        @Max(65535)
        @Default("9090")
        public Integer grpc = 9090;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Replication {
        @JsonPropertyDescription("sync: a write is acknowledged once minInSync members (the primary included) "
                + "have it, and a failover loses nothing acknowledged; async: acknowledged by the primary alone.")
        @Default("sync")
        @SchemaFrom(type = Mode.class)
        public String mode = "sync";

        @JsonPropertyDescription("Members (primary included) that must have a write before it is acknowledged, "
                + "in sync mode (1-7, at most replicasPerShard).")
        @Min(1)
        @Max(7)
        @Default("2")
        public Integer minInSync = 2;

        @JsonPropertyDescription("Async mode: the most log records a failover may lose; a replica further "
                + "behind is not promoted.")
        @Min(0)
        @Default("100000")
        public Long maxLagOnFailover = 100_000L;

        /** Values of {@link #mode}, spelled as in the spec. */
        public enum Mode { sync, async }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Failover {
        @JsonPropertyDescription("Promote a replica when the primary is lost.")
        @Default("true")
        public Boolean enabled = true;

        @JsonPropertyDescription("Seconds a primary may be unreachable before failover (1-300). A deleted "
                + "primary pod fails over at once.")
        @Min(1)
        @Max(300)
        @Default("5")
        public Integer primaryUnavailableSeconds = 5;
    }
}
