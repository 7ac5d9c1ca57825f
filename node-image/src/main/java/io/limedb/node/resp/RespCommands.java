package io.limedb.node.resp;

import com.google.protobuf.ByteString;
import io.limedb.api.v1.PutCondition;
import io.limedb.api.v1.PutRequest;
import io.limedb.node.coordinator.ClusterAdmin;
import io.limedb.node.coordinator.Coordinator;
import io.limedb.node.errors.ErrorCode;
import io.limedb.node.errors.LimeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The Redis commands LimeDB answers, with Redis's arity rules and error texts. Data commands go
 * through the {@link Coordinator}; connection-setup commands that clients send (HELLO, CLIENT,
 * COMMAND, CONFIG GET, SELECT 0) get answers that let redis-cli, redis-benchmark, Jedis and Lettuce
 * carry on.
 */
public final class RespCommands {
    public static final String VERSION = "0.1.0";

    /** Per-connection state some commands read or change. */
    public static final class Session {
        final long id;
        String name;

        Session(long id) {
            this.id = id;
        }
    }

    @FunctionalInterface
    interface Handler {
        CompletableFuture<ByteBuf> run(ByteBufAllocator a, RespCommand c, Session s);
    }

    /** arity as in Redis: n > 0 exactly n words (with the name), n < 0 at least -n. */
    record Spec(String name, int arity, Handler handler) {}

    private final Coordinator coordinator;
    private final ClusterAdmin admin;
    private final LongSupplier clockMs;
    private final Map<String, Spec> specs = new HashMap<>();

    public RespCommands(Coordinator coordinator, ClusterAdmin admin, LongSupplier clockMs) {
        this.coordinator = coordinator;
        this.admin = admin;
        this.clockMs = clockMs;
        add("PING", -1, (a, c, s) -> done(c.size() > 1 ? Resp.bulk(a, c.arg(1)) : Resp.raw(a, Resp.PONG)));
        add("ECHO", 2, (a, c, s) -> done(Resp.bulk(a, c.arg(1))));
        add("GET", 2, (a, c, s) -> coordinator.get(c.arg(1)).thenApply(v -> Resp.bulk(a, v)));
        add("SET", -3, this::set);
        add("SETNX", 3, (a, c, s) -> coordinator.put(put(c.arg(1), c.arg(2), 0, PutCondition.IF_ABSENT))
                .thenApply(ok -> Resp.integer(a, ok ? 1 : 0)));
        add("DEL", -2, (a, c, s) -> coordinator.deleteMany(c.args().subList(1, c.size())).thenApply(n -> Resp.integer(a, n)));
        add("UNLINK", -2, (a, c, s) -> coordinator.deleteMany(c.args().subList(1, c.size())).thenApply(n -> Resp.integer(a, n)));
        add("EXISTS", -2, (a, c, s) -> coordinator.countExisting(c.args().subList(1, c.size())).thenApply(n -> Resp.integer(a, n)));
        add("MGET", -2, (a, c, s) -> coordinator.multiGet(c.args().subList(1, c.size())).thenApply(l -> Resp.array(a, l)));
        add("MSET", -3, this::mset);
        add("INCR", 2, (a, c, s) -> incr(a, c.arg(1), 1));
        add("DECR", 2, (a, c, s) -> incr(a, c.arg(1), -1));
        add("INCRBY", 3, (a, c, s) -> incr(a, c.arg(1), integerArg(c, 2)));
        add("DECRBY", 3, (a, c, s) -> {
            long d = integerArg(c, 2);
            if (d == Long.MIN_VALUE) throw err("decrement would overflow");
            return incr(a, c.arg(1), -d);
        });
        add("DBSIZE", 1, (a, c, s) -> admin.estimatedKeys().thenApply(n -> Resp.integer(a, n)));
        add("INFO", -1, this::info);
        add("SELECT", 2, (a, c, s) -> {
            if (!"0".equals(c.argString(1))) throw err("DB index is out of range");
            return done(Resp.raw(a, Resp.OK));
        });
        add("HELLO", -1, this::hello);
        add("CLIENT", -2, this::client);
        add("COMMAND", -1, this::command);
        add("CONFIG", -2, this::config);
        add("AUTH", -2, (a, c, s) -> {
            throw err("AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?");
        });
        add("QUIT", -1, (a, c, s) -> done(Resp.raw(a, Resp.OK)));
        add("RESET", 1, (a, c, s) -> done(Resp.simple(a, "RESET")));
    }

    private void add(String name, int arity, Handler h) {
        specs.put(name, new Spec(name, arity, h));
    }

    public boolean knows(String name) {
        return specs.containsKey(name);
    }

    /** Runs a command; a failure is returned as a RESP error reply, never thrown. */
    public CompletableFuture<ByteBuf> execute(ByteBufAllocator a, RespCommand c, String name, Session s) {
        Spec spec = specs.get(name);
        if (spec == null) {
            return done(Resp.error(a, "ERR unknown command '" + truncate(c.argString(0)) + "', with args beginning with: "
                    + argsPreview(c)));
        }
        if (spec.arity() > 0 ? c.size() != spec.arity() : c.size() < -spec.arity()) {
            return done(Resp.error(a, "ERR wrong number of arguments for '" + name.toLowerCase(Locale.ROOT) + "' command"));
        }
        try {
            return spec.handler().run(a, c, s).exceptionally(t -> errorReply(a, t));
        } catch (RuntimeException e) {
            return done(errorReply(a, e));
        }
    }

    static ByteBuf errorReply(ByteBufAllocator a, Throwable t) {
        LimeException e = LimeException.of(t);
        String msg = e.getMessage();
        if (e.code() == ErrorCode.NOT_AN_INTEGER) msg = "value is not an integer or out of range";
        if (msg.startsWith("ERR ")) return Resp.error(a, msg);
        return Resp.error(a, e.code().respPrefix() + " " + msg);
    }

    private CompletableFuture<ByteBuf> set(ByteBufAllocator a, RespCommand c, Session s) {
        long expireAt = 0;
        var cond = PutCondition.ALWAYS;
        for (int i = 3; i < c.size(); i++) {
            String opt = c.argString(i).toUpperCase(Locale.ROOT);
            switch (opt) {
                case "NX", "XX" -> {
                    if (cond != PutCondition.ALWAYS) throw err("syntax error");
                    cond = opt.equals("NX") ? PutCondition.IF_ABSENT : PutCondition.IF_PRESENT;
                }
                case "EX", "PX", "EXAT", "PXAT" -> {
                    if (expireAt != 0 || i + 1 >= c.size()) throw err("syntax error");
                    long n = integerArg(c, ++i);
                    if (n <= 0) throw err("invalid expire time in 'set' command");
                    try {
                        expireAt = switch (opt) {
                            case "EX" -> Math.addExact(clockMs.getAsLong(), Math.multiplyExact(n, 1000L));
                            case "PX" -> Math.addExact(clockMs.getAsLong(), n);
                            case "EXAT" -> Math.multiplyExact(n, 1000L);
                            default -> n;
                        };
                    } catch (ArithmeticException e) {
                        throw err("invalid expire time in 'set' command");
                    }
                }
                case "KEEPTTL", "GET" -> throw err("SET " + opt + " is not supported by LimeDB");
                default -> throw err("syntax error");
            }
        }
        var finalCond = cond;
        return coordinator.put(put(c.arg(1), c.arg(2), expireAt, cond))
                .thenApply(ok -> ok || finalCond == PutCondition.ALWAYS ? Resp.raw(a, Resp.OK) : Resp.raw(a, Resp.NULL_BULK));
    }

    private CompletableFuture<ByteBuf> mset(ByteBufAllocator a, RespCommand c, Session s) {
        if (c.size() % 2 != 1) throw err("wrong number of arguments for 'mset' command");
        var puts = new ArrayList<PutRequest>(c.size() / 2);
        for (int i = 1; i < c.size(); i += 2) puts.add(put(c.arg(i), c.arg(i + 1), 0, PutCondition.ALWAYS));
        return coordinator.multiPut(puts).thenApply(n -> Resp.raw(a, Resp.OK));
    }

    private CompletableFuture<ByteBuf> incr(ByteBufAllocator a, byte[] key, long delta) {
        return coordinator.increment(key, delta).thenApply(v -> Resp.integer(a, v));
    }

    private CompletableFuture<ByteBuf> info(ByteBufAllocator a, RespCommand c, Session s) {
        return admin.estimatedKeys().handle((keys, t) -> {
            var sb = new StringBuilder();
            sb.append("# Server\r\nredis_version:7.2.0\r\nlimedb_version:").append(VERSION)
                    .append("\r\nredis_mode:standalone\r\nlimedb_role:coordinator\r\nprocess_id:")
                    .append(ProcessHandle.current().pid()).append("\r\n\r\n# Cluster\r\nshards:")
                    .append(coordinator.router().table().ring().shards().size())
                    .append("\r\ntopology_version:").append(coordinator.router().table().topology().version())
                    .append("\r\n\r\n# Keyspace\r\n");
            if (t == null) sb.append("db0:keys=").append(keys).append(",expires=0,avg_ttl=0\r\n");
            else sb.append("# keyspace unavailable: ").append(LimeException.of(t).getMessage()).append("\r\n");
            return Resp.bulk(a, sb.toString());
        });
    }

    private CompletableFuture<ByteBuf> hello(ByteBufAllocator a, RespCommand c, Session s) {
        if (c.size() > 1) {
            String v = c.argString(1);
            if (!v.equals("2")) {
                if (v.equals("3")) return done(Resp.error(a, "NOPROTO unsupported protocol version"));
                throw err("Protocol version is not an integer or out of range");
            }
            if (c.size() > 2) {
                String opt = c.argString(2).toUpperCase(Locale.ROOT);
                if (opt.equals("SETNAME") && c.size() > 3) s.name = c.argString(3);
                else if (opt.equals("AUTH")) throw err("AUTH is not enabled on this server");
            }
        }
        List<byte[]> fields = new ArrayList<>();
        for (String f : new String[] {"server", "redis", "version", "7.2.0", "limedb_version", VERSION, "proto", "2",
                "mode", "standalone", "role", "master"}) {
            fields.add(f.getBytes(StandardCharsets.UTF_8));
        }
        // "id" is an integer in real Redis; RESP2 clients read this map as a flat list of strings.
        fields.add("id".getBytes(StandardCharsets.UTF_8));
        fields.add(Long.toString(s.id).getBytes(StandardCharsets.UTF_8));
        return done(Resp.array(a, fields));
    }

    private CompletableFuture<ByteBuf> client(ByteBufAllocator a, RespCommand c, Session s) {
        String sub = c.argString(1).toUpperCase(Locale.ROOT);
        return switch (sub) {
            case "SETNAME" -> {
                if (c.size() != 3) throw err("wrong number of arguments for 'client|setname' command");
                s.name = c.argString(2);
                yield done(Resp.raw(a, Resp.OK));
            }
            case "GETNAME" -> done(Resp.bulk(a, s.name));
            case "ID" -> done(Resp.integer(a, s.id));
            case "SETINFO", "NO-EVICT", "NO-TOUCH", "REPLY" -> done(Resp.raw(a, Resp.OK));
            case "INFO" -> done(Resp.bulk(a, "id=" + s.id + " name=" + (s.name == null ? "" : s.name) + " db=0\n"));
            default -> throw err("unknown subcommand '" + truncate(c.argString(1)) + "'. Try CLIENT HELP.");
        };
    }

    private CompletableFuture<ByteBuf> command(ByteBufAllocator a, RespCommand c, Session s) {
        if (c.size() == 1) return done(Resp.array(a, List.of()));
        return switch (c.argString(1).toUpperCase(Locale.ROOT)) {
            case "COUNT" -> done(Resp.integer(a, specs.size()));
            case "DOCS", "LIST" -> done(Resp.array(a, List.of()));
            case "INFO" -> {
                var nulls = new ArrayList<byte[]>();
                for (int i = 2; i < c.size(); i++) nulls.add(null);
                yield done(Resp.array(a, nulls));
            }
            default -> throw err("unknown subcommand '" + truncate(c.argString(1)) + "'. Try COMMAND HELP.");
        };
    }

    private CompletableFuture<ByteBuf> config(ByteBufAllocator a, RespCommand c, Session s) {
        String sub = c.argString(1).toUpperCase(Locale.ROOT);
        if (!sub.equals("GET")) throw err("CONFIG " + truncate(sub) + " is not supported by LimeDB");
        if (c.size() != 3) throw err("wrong number of arguments for 'config|get' command");
        String param = c.argString(2).toLowerCase(Locale.ROOT);
        // redis-benchmark asks for these two; LimeDB writes a WAL on every write, like appendonly.
        return switch (param) {
            case "save" -> done(Resp.array(a, List.of(bytes("save"), bytes(""))));
            case "appendonly" -> done(Resp.array(a, List.of(bytes("appendonly"), bytes("yes"))));
            case "databases" -> done(Resp.array(a, List.of(bytes("databases"), bytes("1"))));
            default -> done(Resp.array(a, List.of()));
        };
    }

    private static PutRequest put(byte[] key, byte[] value, long expireAt, PutCondition cond) {
        return PutRequest.newBuilder().setKey(ByteString.copyFrom(key)).setValue(ByteString.copyFrom(value))
                .setExpireAtMs(expireAt).setCondition(cond).build();
    }

    private static long integerArg(RespCommand c, int i) {
        String s = c.argString(i);
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new LimeException(ErrorCode.NOT_AN_INTEGER, "value is not an integer or out of range");
        }
    }

    private static LimeException err(String message) {
        return new LimeException(ErrorCode.INVALID_ARGUMENT, "ERR " + message);
    }

    private static CompletableFuture<ByteBuf> done(ByteBuf b) {
        return CompletableFuture.completedFuture(b);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String truncate(String s) {
        return s.length() > 128 ? s.substring(0, 128) + "..." : s;
    }

    private static String argsPreview(RespCommand c) {
        var sb = new StringBuilder();
        for (int i = 1; i < c.size() && sb.length() < 128; i++) sb.append('\'').append(truncate(c.argString(i))).append("' ");
        return sb.toString();
    }
}
