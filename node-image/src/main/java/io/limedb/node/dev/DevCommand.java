package io.limedb.node.dev;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** `dev`: runs a local cluster in the foreground until Ctrl-C or SIGTERM. Data survives restarts. */
public final class DevCommand {
    private DevCommand() {}

    public static String help() {
        return """

                dev options: --shards=N (3) --replicas=N (1: standalone shards) --replication=sync|async (sync)
                             --min-in-sync=N (2) --failure-timeout-ms (1500) --restart-delay-ms (3000; -1: never)
                             --data-dir=DIR (data/dev) --host=H (127.0.0.1)
                             --http-port (8080) --resp-port (6379) --grpc-port (9090)
                             --shard-grpc-base (9091) --shard-http-base (8081): shard member k uses base + k
                             --control-port (8070): POST /shards?count=N adds or removes shards (replicated only)
                             any other --key=value is passed to every node
                             each node process sizes its threads for half the cores (-XX:ActiveProcessorCount);
                             java -Dlimedb.dev.node.cpus=N -jar ... dev sets N;
                             java -Dlimedb.dev.node.jvm="OPTIONS" -jar ... dev adds JVM options to every node
                """;
    }

    public static int run(List<String> args) throws IllegalArgumentException {
        Map<String, String> opts = new HashMap<>();
        var passThrough = new ArrayList<String>();
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) throw new IllegalArgumentException("expected --key=value, got " + a);
            String k = a.substring(2, a.indexOf('='));
            switch (k) {
                case "shards", "replicas", "replication", "min-in-sync", "failure-timeout-ms", "restart-delay-ms",
                        "data-dir", "host", "http-port", "resp-port", "grpc-port", "shard-grpc-base",
                        "shard-http-base", "control-port" -> opts.put(k, a.substring(a.indexOf('=') + 1));
                default -> passThrough.add(a);
            }
        }
        int shards = intOpt(opts, "shards", 3);
        int replicas = intOpt(opts, "replicas", 1);
        int gBase = intOpt(opts, "shard-grpc-base", 9091), hBase = intOpt(opts, "shard-http-base", 8081);
        int[] g = new int[shards * replicas], h = new int[shards * replicas];
        for (int i = 0; i < g.length; i++) {
            g[i] = gBase + i;
            h[i] = hBase + i;
        }
        Path data = Path.of(opts.getOrDefault("data-dir", "data/dev")).toAbsolutePath();
        String host = opts.getOrDefault("host", "127.0.0.1");
        String mode = replicas > 1 ? opts.getOrDefault("replication", "sync") : "none";
        int minInSync = intOpt(opts, "min-in-sync", Math.min(2, replicas));
        var spec = new LocalCluster.Spec(shards, replicas, mode, minInSync, data, host, intOpt(opts, "http-port", 8080),
                intOpt(opts, "resp-port", 6379), intOpt(opts, "grpc-port", 9090), g, h, passThrough);
        Path jar = jarOfThisProgram();
        var cluster = new LocalCluster(spec, jar);
        cluster.morePorts(k -> new int[] {gBase + k, hBase + k});
        if (spec.replicated()) {
            cluster.controllerSettings(LocalController.Settings.from(spec)
                    .withFailureTimeout(intOpt(opts, "failure-timeout-ms", 1500))
                    .withRestartDelay(intOpt(opts, "restart-delay-ms", 3000)));
        }
        var done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nlimedb dev: stopping all nodes ...");
            try {
                cluster.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.println("limedb dev: stopped; data kept in " + data);
            done.countDown();
        }, "dev-shutdown"));
        try {
            System.out.println("limedb dev: starting " + shards + " shards" + (replicas > 1 ? " x " + replicas
                    + " members (" + mode + " replication, min-in-sync " + minInSync + ")" : "")
                    + " and a coordinator; data in " + data);
            cluster.start(Duration.ofSeconds(60));
        } catch (Exception e) {
            System.err.println("limedb dev: " + e.getMessage());
            return 1;
        }
        System.out.println("limedb dev: cluster is up (topology " + cluster.topologyFile() + ")");
        DevControl control;
        try {
            control = new DevControl(cluster, host, intOpt(opts, "control-port", 8070));
        } catch (java.io.IOException e) {
            System.err.println("limedb dev: control endpoint: " + e.getMessage());
            return 1;
        }
        cluster.describe().forEach((name, d) -> System.out.printf("  %-12s %s%n", name, d));
        System.out.printf("""
                try:
                  redis-cli -h %1$s -p %2$d set hello world
                  redis-cli -h %1$s -p %2$d get hello
                  curl -s -X POST http://%1$s:%3$d/api/v1/set -H 'Content-Type: application/json' -d '{"key":"k1","value":"v1"}'
                  curl -s http://%1$s:%3$d/api/v1/get/k1
                  curl -s http://%1$s:%3$d/api/v1/cluster/state
                  curl -s http://%1$s:%4$d/shards                          (the ring)
                  curl -s -X POST 'http://%1$s:%4$d/shards?count=4'        (add or remove shards; replicated only)
                Ctrl-C stops every node.
                """, host, spec.coordinatorResp(), spec.coordinatorHttp(), control.port());
        // Stay up while the nodes are; report any that dies.
        var reported = new java.util.HashSet<String>();
        while (done.getCount() > 0) {
            for (var p : cluster.all()) {
                if (!p.alive() && reported.add(p.name())) {
                    System.out.println("limedb dev: " + p.name() + " exited; see " + p.log());
                }
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return 0;
            }
        }
        return 0;
    }

    private static int intOpt(Map<String, String> opts, String k, int def) {
        String v = opts.get(k);
        if (v == null) return def;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + k + " must be a number, got " + v);
        }
    }

    private static Path jarOfThisProgram() {
        try {
            return Path.of(DevCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            throw new IllegalStateException("cannot find the node jar", e);
        }
    }
}
