package io.limedb.node.resp;

import io.limedb.node.metrics.NodeMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One RESP connection: runs each command and writes the replies in request order, although they may
 * complete out of order (different shards). Stops reading while too many commands or bytes await
 * answers (commands not answered yet, answers waiting for earlier ones) or the client is not reading
 * its answers (the channel is not writable), so one connection holds a bounded amount of memory.
 */
final class RespHandler extends ChannelInboundHandlerAdapter {
    private static final AtomicLong IDS = new AtomicLong();

    private static final class Slot {
        ByteBuf reply;
        boolean closeAfter;
        long bytes; // counted in pendingBytes: the command's until answered, then the reply's
    }

    private final RespCommands commands;
    private final NodeMetrics metrics;
    private final int maxPending;
    private final long maxPendingBytes;
    private long pendingBytes;
    private final RespCommands.Session session = new RespCommands.Session(IDS.incrementAndGet());
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    // Per connection, so no locking; bounded by the commands a client sends (unknown names share one entry).
    private final java.util.HashMap<String, io.limedb.node.metrics.NodeMetrics.RequestTimer> timers = new java.util.HashMap<>();
    private ChannelHandlerContext ctx;
    private boolean closing;   // no more commands are read
    private boolean dead;      // nothing more is written; late replies are released

    RespHandler(RespCommands commands, NodeMetrics metrics, int maxPending, long maxPendingBytes) {
        this.commands = commands;
        this.metrics = metrics;
        this.maxPending = maxPending;
        this.maxPendingBytes = maxPendingBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) return;
        var slot = new Slot();
        slots.add(slot);
        if (msg instanceof RespDecoder.ProtocolError pe) {
            metrics.error("resp", "PROTOCOL");
            slot.reply = Resp.error(ctx.alloc(), "ERR Protocol error: " + pe.message());
            slot.closeAfter = true;
            closing = true;
            drain();
            return;
        }
        var cmd = (RespCommand) msg;
        for (byte[] a : cmd.args()) slot.bytes += a.length + 16;
        pendingBytes += slot.bytes;
        String raw = cmd.name();
        String name = commands.knows(raw) ? raw : "UNKNOWN";
        if (name.equals("QUIT")) slot.closeAfter = true;
        long start = System.nanoTime();
        commands.execute(ctx.alloc(), cmd, raw, session).whenComplete((reply, t) -> {
            if (ctx.executor().inEventLoop()) finish(slot, reply, t, name, start);
            else ctx.executor().execute(() -> finish(slot, reply, t, name, start));
        });
        updateReading();
    }

    /** Pauses reading when full; resumes once half drained and the client reads its answers again. */
    private void updateReading() {
        var config = ctx.channel().config();
        boolean writable = ctx.channel().isWritable();
        if (config.isAutoRead()) {
            if (slots.size() >= maxPending || pendingBytes >= maxPendingBytes || !writable) config.setAutoRead(false);
        } else if (slots.size() <= maxPending / 2 && pendingBytes <= maxPendingBytes / 2 && writable) {
            config.setAutoRead(true);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!closing) updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    private void finish(Slot slot, ByteBuf reply, Throwable t, String name, long start) {
        if (dead) {
            if (reply != null) reply.release();
            return;
        }
        slot.reply = reply != null ? reply : RespCommands.errorReply(ctx.alloc(), t);
        pendingBytes += slot.reply.readableBytes() - slot.bytes;
        slot.bytes = slot.reply.readableBytes();
        boolean ok = slot.reply.readableBytes() == 0 || slot.reply.getByte(slot.reply.readerIndex()) != '-';
        timers.computeIfAbsent(name, n -> metrics.timer("resp", n.toLowerCase(Locale.ROOT))).record(ok, System.nanoTime() - start);
        if (slot == slots.peek()) drain();
    }

    private void drain() {
        boolean wrote = false;
        while (!slots.isEmpty() && slots.peek().reply != null) {
            Slot s = slots.poll();
            pendingBytes -= s.bytes;
            wrote = true;
            if (s.closeAfter) {
                dead = true;
                ctx.writeAndFlush(s.reply).addListener(ChannelFutureListener.CLOSE);
                slots.forEach(x -> { if (x.reply != null) x.reply.release(); });
                slots.clear();
                return;
            }
            ctx.write(s.reply, ctx.voidPromise());
        }
        if (wrote) ctx.flush();
        if (!closing) updateReading();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        slots.forEach(s -> { if (s.reply != null) s.reply.release(); });
        slots.clear();
        closing = true;
        dead = true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // connection reset and the like: nothing to tell a client that is gone
    }
}
