package io.limedb.operator.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.limedb.core.control.ClusterState;
import io.limedb.core.control.ControlEvent;
import io.limedb.core.control.ControlLoop;
import io.limedb.core.control.FailoverIntent;
import io.limedb.core.control.MemberCallException;
import io.limedb.core.control.MembersPort;
import io.limedb.core.failover.FailoverPolicy;
import io.limedb.core.failover.MemberReport;
import io.limedb.core.topology.Role;
import io.limedb.core.topology.TopologyJson;
import io.limedb.operator.crd.LimeCluster;
import io.limedb.operator.crd.LimeClusterSpec;
import io.limedb.operator.model.OperatorSettings;
import io.limedb.operator.testing.LocalKubeApiServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The control loop's Kubernetes store against a real kube-apiserver: compare-and-set on the
 * ConfigMap's resourceVersion, and the core loop bootstrapping and failing over a shard through it
 * (members are in-memory: this test is about the store and its concurrency, not about gRPC).
 */
class ConfigMapTopologyStoreIT {
    private static final AtomicInteger names = new AtomicInteger();
    private static LocalKubeApiServer apiServer;
    private static KubernetesClient client;

    @BeforeAll
    static void start() {
        apiServer = LocalKubeApiServer.start();
        client = apiServer.client();
    }

    @AfterAll
    static void stop() {
        if (apiServer != null) apiServer.close();
    }

    private static String namespace() {
        String ns = "store-" + names.incrementAndGet();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
        return ns;
    }

    private static LimeCluster cluster(String ns) {
        var c = new LimeCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("c").withNamespace(ns).withUid("u-1").build());
        c.setSpec(new LimeClusterSpec());
        return c;
    }

    @Test
    void aWriteOverAStaleVersionIsRefusedAndChangesNothing() {
        String ns = namespace();
        var store = new ConfigMapTopologyStore(client, ns, "c-topology", 16);
        var layout = new ClusterLayout(cluster(ns), 2, OperatorSettings.of("img"));
        var initial = layout.initialState(3, 16);
        assertThat(store.readIfExists()).isEmpty();
        assertThat(store.createIfAbsent(initial, new ObjectMetaBuilder().withLabels(Map.of("a", "b")).build())).isTrue();
        assertThat(store.createIfAbsent(initial, new ObjectMetaBuilder().build())).as("second create").isFalse();
        var v1 = store.read();
        assertThat(v1.state()).isEqualTo(initial);

        var other = new ConfigMapTopologyStore(client, ns, "c-topology", 16);
        var fencing = v1.state().withIntent("shard-0", FailoverIntent.fencing(1));
        assertThat(other.compareAndSet(v1.version(), fencing)).isTrue();
        assertThat(store.compareAndSet(v1.version(), v1.state().withIntent("shard-1", FailoverIntent.fencing(1))))
                .as("a write over the version it read, after another writer").isFalse();
        var v2 = store.read();
        assertThat(v2.state()).isEqualTo(fencing);
        assertThat(v2.version()).isNotEqualTo(v1.version());
        var cm = client.configMaps().inNamespace(ns).withName("c-topology").get();
        assertThat(cm.getMetadata().getLabels()).containsEntry("a", "b");
        assertThat(TopologyJson.parse(cm.getData().get("topology.json").getBytes(StandardCharsets.UTF_8), 16))
                .as("coordinators read the same document").isEqualTo(initial.topology());
    }

    @Test
    void twoLoopsOnOneStoreBootstrapAndFailOverWithOnePrimaryAndNoEpochReused() {
        String ns = namespace();
        var store = new ConfigMapTopologyStore(client, ns, "c-topology", 16);
        var layout = new ClusterLayout(cluster(ns), 1, OperatorSettings.of("img"));
        store.createIfAbsent(layout.initialState(3, 16), new ObjectMetaBuilder().build());
        var members = new Members(layout.members(0, 3).stream().map(m -> m.id()).toList());
        var events = new ArrayList<ControlEvent>();
        var settings = new ControlLoop.Settings(FailoverPolicy.sync(2), 0);
        var a = new ControlLoop(members, store, settings, System::nanoTime, events::add);
        var b = new ControlLoop(members, new ConfigMapTopologyStore(client, ns, "c-topology", 16), settings,
                System::nanoTime, events::add);
        for (int i = 0; i < 10; i++) {
            a.tick();
            b.tick();
        }
        var t = store.read().state().topology().shard("shard-0").orElseThrow();
        assertThat(t.epoch()).isEqualTo(1);
        assertThat(members.primaries()).containsExactly(t.primary().id());

        members.down(t.primary().id());
        for (int i = 0; i < 20; i++) {
            b.tick();
            a.tick();
        }
        var after = store.read().state();
        var s = after.topology().shard("shard-0").orElseThrow();
        assertThat(after.intents()).isEmpty();
        assertThat(s.epoch()).isGreaterThan(1);
        assertThat(s.primary().id()).isNotEqualTo(t.primary().id());
        assertThat(members.primaries()).containsExactly(s.primary().id());
        assertThat(members.promotions).as("each epoch promoted at most one member").doesNotHaveDuplicates();
    }

    /** Members in memory: fence, promote, follow as the node does them. */
    private static final class Members implements MembersPort {
        final Map<String, MemberReport> state = new HashMap<>();
        final List<Long> promotions = new ArrayList<>();
        final java.util.Set<String> down = new java.util.HashSet<>();

        Members(List<String> ids) {
            for (String id : ids) state.put(id, new MemberReport(id, Role.UNKNOWN, 0, 0, 0, "s-" + id, true, "", 0, 0, false, 0));
        }

        void down(String id) {
            down.add(id);
        }

        List<String> primaries() {
            return state.values().stream().filter(r -> !down.contains(r.memberId()) && r.role() == Role.PRIMARY)
                    .map(MemberReport::memberId).toList();
        }

        private MemberReport get(String id) {
            if (down.contains(id)) throw new MemberCallException(id, "down");
            return state.get(id);
        }

        private MemberReport set(String id, Role role, long epoch, String following) {
            var r = get(id);
            var n = new MemberReport(id, role, epoch, r.lastEpoch(), r.lastSeq(), r.storageId(), true, following, 0, 0,
                    role == Role.PRIMARY, 0);
            state.put(id, n);
            return n;
        }

        @Override
        public MemberReport status(String id) {
            return get(id);
        }

        @Override
        public MemberReport fence(String id, long epoch) {
            var r = get(id);
            if (r.epoch() >= epoch) return r;
            return set(id, Role.UNKNOWN, epoch, "");
        }

        @Override
        public MemberReport promote(String id, long epoch) {
            var r = get(id);
            if (r.isPrimaryAt(epoch)) return r;
            promotions.add(epoch);
            return set(id, Role.PRIMARY, epoch, "");
        }

        @Override
        public MemberReport follow(String id, String primary, long epoch) {
            return set(id, Role.REPLICA, epoch, primary);
        }
    }
}
