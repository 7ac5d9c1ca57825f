package io.limedb.node;

import io.limedb.node.config.NodeConfig;
import io.limedb.node.coordinator.CoordinatorNode;
import io.limedb.node.dev.DevCommand;
import io.limedb.node.shard.ShardNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point: `shard`, `coordinator` or `dev`; with no command, the role comes from configuration. */
public final class Main {
    private static final String USAGE = """
            usage: java -jar limedb-node.jar [shard|coordinator] [--key=value ...]
                   java -jar limedb-node.jar dev [--shards=3] [--data-dir=data/dev] [--host=127.0.0.1]
                   java -jar limedb-node.jar bench-shard --target=HOST:PORT [--seconds=5] [--concurrency=64]
                   java -jar limedb-node.jar bench-reshard [--keys=100000] [--clients=16]
                   java -jar limedb-node.jar bench-reads [--keys=333000] [--batches=5,16,40]
                   java -jar limedb-node.jar bench-writes [--keys=333000] [--size=100] [--batches=1,5,16,95,400]
                   java -jar limedb-node.jar --help

            Configuration keys (command line --key=value, or environment variable, or default):
            """;

    private Main() {}

    public static void main(String[] argv) {
        // Pods come back with new IPs: re-resolve shard names within seconds, not the JDK's 30 s
        // (gRPC's DNS resolver reads the same setting).
        if (java.security.Security.getProperty("networkaddress.cache.ttl") == null
                || "-1".equals(java.security.Security.getProperty("networkaddress.cache.ttl"))) {
            java.security.Security.setProperty("networkaddress.cache.ttl", "2");
        }
        java.security.Security.setProperty("networkaddress.cache.negative.ttl", "1");
        var args = new ArrayList<>(Arrays.asList(argv));
        if (args.contains("--help") || args.contains("-h") || args.contains("help")) {
            System.out.print(USAGE + NodeConfig.help() + DevCommand.help());
            return;
        }
        String command = !args.isEmpty() && !args.get(0).startsWith("--") ? args.remove(0) : null;
        try {
            switch (command == null ? "" : command) {
                case "dev" -> System.exit(DevCommand.run(args));
                case "bench-shard" -> System.exit(io.limedb.node.bench.ShardBench.run(args));
                case "bench-reshard" -> System.exit(io.limedb.node.bench.ReshardBench.run(args));
                case "bench-reads" -> System.exit(io.limedb.node.bench.ReadBench.run(args));
                case "bench-writes" -> System.exit(io.limedb.node.bench.WriteBench.run(args));
                case "shard", "coordinator" -> {
                    args.add(0, "--role=" + command);
                    run(args);
                }
                case "" -> run(args);
                default -> fail("unknown command '" + command + "': expected shard, coordinator or dev (see --help)");
            }
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
        } catch (Exception e) {
            fail(e.toString());
        }
    }

    private static void run(List<String> args) {
        // Netty's default leak detector records a stack trace for one buffer in 128: about 3% of a
        // coordinator's CPU under load (bench/README.md). Tests and debugging turn it on with
        // -Dio.netty.leakDetection.level=paranoid.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        NodeConfig config = NodeConfig.fromArgs(args);
        Logger log = LoggerFactory.getLogger(Main.class);
        AutoCloseable node;
        try {
            node = switch (config.get(NodeConfig.ROLE)) {
                case SHARD -> new ShardNode(config);
                case COORDINATOR -> new CoordinatorNode(config);
            };
        } catch (Exception e) {
            log.error("cannot start {} {}: {}", config.get(NodeConfig.ROLE).name().toLowerCase(java.util.Locale.ROOT),
                    config.get(NodeConfig.NODE_ID), describe(e));
            System.exit(1);
            return;
        }
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                log.warn("error while stopping: {}", describe(e));
            }
            stopped.countDown();
        }, "shutdown"));
        watchParent(config.get(NodeConfig.PARENT_PID), log);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Exits when the process that started us is gone, so `dev` never leaves orphans behind. */
    private static void watchParent(long pid, Logger log) {
        if (pid <= 0) return;
        var t = new Thread(() -> {
            var parent = ProcessHandle.of(pid);
            while (parent.isPresent() && parent.get().isAlive()) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
            log.info("parent process {} is gone; stopping", pid);
            System.exit(0);
        }, "parent-watch");
        t.setDaemon(true);
        t.start();
    }

    private static String describe(Throwable e) {
        var sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) sb.append(": ").append(c.getMessage());
        }
        return e.getClass().getSimpleName() + ": " + sb;
    }

    private static void fail(String message) {
        System.err.println("limedb: " + message);
        System.exit(2);
    }
}
