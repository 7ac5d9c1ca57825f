package io.limedb.node.it;

import io.limedb.node.dev.LocalCluster;
import io.limedb.testkit.net.Ports;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A LocalCluster of real node processes on 127.0.0.1, on free ports, for integration tests. */
final class TestCluster {
    private TestCluster() {}

    static Path jar() {
        String jar = System.getProperty("limedb.node.jar");
        if (jar == null) throw new IllegalStateException("run through `mvn verify`: limedb.node.jar is not set");
        return Path.of(jar);
    }

    static LocalCluster start(Path dataDir, int shards, List<String> extraArgs) throws Exception {
        var cluster = new LocalCluster(spec(dataDir, shards, extraArgs), jar());
        cluster.start(Duration.ofSeconds(60));
        return cluster;
    }

    static LocalCluster.Spec spec(Path dataDir, int shards, List<String> extraArgs) throws IOException {
        return spec(dataDir, shards, 1, "none", 1, extraArgs);
    }

    static LocalCluster.Spec spec(Path dataDir, int shards, int replicas, String mode, int minInSync,
            List<String> extraArgs) throws IOException {
        int[] g = new int[shards * replicas], h = new int[shards * replicas];
        for (int i = 0; i < g.length; i++) {
            g[i] = freePort();
            h[i] = freePort();
        }
        return new LocalCluster.Spec(shards, replicas, mode, minInSync, dataDir, "127.0.0.1", freePort(), freePort(),
                freePort(), g, h, extraArgs);
    }

    /** A free port outside the kernel's ephemeral range (see {@link Ports}). */
    static int freePort() {
        return Ports.next();
    }
}
