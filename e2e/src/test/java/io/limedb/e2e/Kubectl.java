package io.limedb.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The kubectl that e2e/cluster.sh installed, run against the e2e kubeconfig, for what users see. */
final class Kubectl {
    private Kubectl() {}

    static String run(String... args) throws IOException, InterruptedException {
        var cmd = new ArrayList<String>();
        cmd.add(binary("kubectl"));
        cmd.add("--kubeconfig=" + System.getProperty("limedb.e2e.kubeconfig", "target/kubeconfig"));
        cmd.addAll(List.of(args));
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Where e2e/cluster.sh puts the tools (LIMEDB_E2E_BIN, its cache's bin/), else the PATH. */
    static String binary(String name) {
        for (String dir : new String[] {System.getProperty("limedb.e2e.bin", ""), System.getenv("LIMEDB_E2E_BIN"),
                System.getenv().getOrDefault("LIMEDB_E2E_CACHE", "/var/cache/limedb-e2e") + "/bin"}) {
            if (dir != null && !dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
        }
        return name;
    }
}
