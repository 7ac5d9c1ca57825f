package io.limedb.node.it;

import io.limedb.node.dev.LocalCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The integration tests' cluster helpers, for tests in other packages. */
public final class TestClusterAccess {
    private TestClusterAccess() {}

    public static Path jar() {
        return TestCluster.jar();
    }

    public static LocalCluster.Spec spec(Path dir, int shards, int replicas, String mode, int minInSync,
            List<String> extraArgs) throws IOException {
        return TestCluster.spec(dir, shards, replicas, mode, minInSync, extraArgs);
    }
}
