package io.limedb.operator.model;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.limedb.operator.crd.LimeClusterSpec;
import java.util.Map;

/** Pieces that shard and coordinator pods share: security, probes, env helpers, /tmp and scheduling. */
final class NodePods {
    static final String CONTAINER = Names.NODE_CONTAINER;
    static final long USER = 10001;
    static final long TERMINATION_GRACE_SECONDS = 30;
    // Serial GC on small pods. The heap and the JIT's code in transparent huge pages, where the node's kernel
    // gives them on request (transparent_hugepage "madvise" or "always"; with "never" the JVM says so once and
    // goes on without). DNS answers cached for 5 s (1 s when negative), not 30 s, by the JVM (sun.net.*)
    // and by gRPC's resolver (networkaddress.cache.ttl as a system property): a pod that comes back (a restart,
    // a shard removed and added again) has a new IP behind the same name, and peers must not keep dialling the old one.
    private static final String JVM_COMMON = "-XX:+UseSerialGC -XX:+UseTransparentHugePages -Djava.io.tmpdir=/tmp "
            + "-Dnetworkaddress.cache.ttl=5 -Dsun.net.inetaddr.ttl=5 -Dsun.net.inetaddr.negative.ttl=1";
    /**
     * A shard's heap is a quarter of its container's memory: its data lives outside the heap (RocksDB's
     * block cache and memtables, the value cache), which the shard sizes from the rest of the limit
     * (the node's MemoryBudget; measured with {@code make bench-memory}).
     */
    static final String SHARD_JAVA_TOOL_OPTIONS = "-XX:MaxRAMPercentage=25 " + JVM_COMMON;
    /** A coordinator keeps nothing outside the heap but Netty's buffers: half its memory for the heap. */
    static final String COORDINATOR_JAVA_TOOL_OPTIONS = "-XX:MaxRAMPercentage=50 " + JVM_COMMON;
    static final String TMP = "tmp";
    static final String HOSTNAME_TOPOLOGY = "kubernetes.io/hostname";

    private NodePods() {}

    /** Non-root user/group 10001, volumes chowned only when needed, the runtime's default seccomp. */
    static PodSecurityContext podSecurityContext() {
        return new PodSecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withRunAsUser(USER)
                .withRunAsGroup(USER)
                .withFsGroup(USER)
                .withFsGroupChangePolicy("OnRootMismatch")
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .build();
    }

    /** No privilege escalation, no capabilities, read-only root (writes go to /data and /tmp only). */
    static SecurityContext containerSecurityContext() {
        return new SecurityContextBuilder()
                .withAllowPrivilegeEscalation(false)
                .withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .build();
    }

    /**
     * glibc's malloc asks for transparent huge pages for the memory it maps: RocksDB's memtables and
     * block cache, the shard's value cache. On a VM a TLB miss walks two page tables; with huge pages (and the
     * JVM option in JVM_COMMON) the shards spent 0.63-0.75x the CPU per request (bench/README.md, tenth round).
     */
    static EnvVar hugePages() {
        return env("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
    }

    static EnvVar env(String name, String value) {
        return new EnvVar(name, value, null);
    }

    /** The pod's own name, which is the node id. */
    static EnvVar podNameEnv(String name) {
        return new EnvVarBuilder().withName(name)
                .withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom()
                .build();
    }

    static ContainerPort port(String name, int port) {
        return new ContainerPortBuilder().withName(name).withContainerPort(port).withProtocol("TCP").build();
    }

    /** Ready only when the node says so: a shard once it has its role, a coordinator once it has a topology. */
    static Probe readinessProbe() {
        return new ProbeBuilder()
                .withNewHttpGet().withPath("/health/ready").withPort(new IntOrString("http")).endHttpGet()
                .withPeriodSeconds(2).build();
    }

    /** Liveness with room for a slow start (RocksDB recovery) and a minute of unresponsiveness. */
    static Probe livenessProbe() {
        return new ProbeBuilder()
                .withNewHttpGet().withPath("/health/live").withPort(new IntOrString("http")).endHttpGet()
                .withInitialDelaySeconds(30).withPeriodSeconds(10).withFailureThreshold(6).build();
    }

    /** An emptyDir for java.io.tmpdir, where RocksDB JNI extracts its native library. */
    static Volume tmpVolume() {
        return new VolumeBuilder().withName(TMP).withNewEmptyDir().endEmptyDir().build();
    }

    static VolumeMount mount(String volume, String path) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).build();
    }

    /** Spread pods matching {@code selector} over nodes when the scheduler can, never at the cost of not running. */
    static Affinity preferredAntiAffinity(Map<String, String> selector) {
        return new AffinityBuilder().withNewPodAntiAffinity()
                .addNewPreferredDuringSchedulingIgnoredDuringExecution()
                .withWeight(100)
                .withNewPodAffinityTerm()
                .withNewLabelSelector().withMatchLabels(selector).endLabelSelector()
                .withTopologyKey(HOSTNAME_TOPOLOGY)
                .endPodAffinityTerm()
                .endPreferredDuringSchedulingIgnoredDuringExecution()
                .endPodAntiAffinity().build();
    }

    /** The spec's scheduling fields that apply to every node pod: node selector, tolerations, priority class. */
    static PodSpecBuilder scheduling(PodSpecBuilder pod, LimeClusterSpec spec) {
        return pod.withNodeSelector(spec.nodeSelector)
                .withTolerations(spec.tolerations)
                .withPriorityClassName(spec.priorityClassName);
    }

    /** A TCP Service port that targets the container port of the same name. */
    static ServicePort servicePort(String name, int port) {
        return new ServicePortBuilder().withName(name).withPort(port).withTargetPort(new IntOrString(name))
                .withProtocol("TCP").build();
    }
}
