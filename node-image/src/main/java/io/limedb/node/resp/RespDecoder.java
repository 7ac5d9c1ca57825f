package io.limedb.node.resp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes RESP2 requests (arrays of bulk strings, or inline commands) into {@link RespCommand}s.
 * Keeps its place between reads, so a command split across packets, or many in one packet, cost
 * nothing extra. Malformed framing yields one {@link ProtocolError}, after which input is ignored:
 * the handler answers it and closes the connection, as Redis does. So does a command whose declared
 * lengths pass the limits: it is refused as its headers are read, before its payload is buffered.
 */
public final class RespDecoder extends ByteToMessageDecoder {
    /** Longest inline command or header line. */
    static final int MAX_LINE = 64 * 1024;

    /** A request that cannot be parsed; the connection must be closed after answering it. */
    public record ProtocolError(String message) {}

    private final int maxArgs;
    private final int maxBulkBytes;
    private final long maxCommandBytes;
    private int expectedArgs = -1;
    private int bulkLength = -1;
    private long commandBytes; // of the command being read, as sent, counting declared bulk lengths
    private List<byte[]> args;
    private boolean failed;

    public RespDecoder(int maxArgs, int maxBulkBytes) {
        this(maxArgs, maxBulkBytes, Long.MAX_VALUE);
    }

    public RespDecoder(int maxArgs, int maxBulkBytes, long maxCommandBytes) {
        this.maxArgs = maxArgs;
        this.maxBulkBytes = maxBulkBytes;
        this.maxCommandBytes = maxCommandBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (!failed && in.isReadable()) {
            Object msg = decodeOne(in);
            if (msg == null) return; // need more bytes
            if (msg instanceof ProtocolError) {
                failed = true;
                in.skipBytes(in.readableBytes());
            }
            if (msg != SKIP) out.add(msg);
        }
        if (failed) in.skipBytes(in.readableBytes());
    }

    private static final Object SKIP = new Object();

    private Object decodeOne(ByteBuf in) {
        if (expectedArgs < 0) {
            if (in.getByte(in.readerIndex()) != '*') return inline(in);
            int headerBytes = lineLength(in);
            if (headerBytes == INCOMPLETE) return null;
            if (headerBytes == TOO_LONG) return new ProtocolError("too big multibulk count");
            long n = number(in, headerBytes);
            if (n == Long.MIN_VALUE || n > maxArgs) return new ProtocolError("invalid multibulk length");
            if (n <= 0) return SKIP;
            expectedArgs = (int) n;
            commandBytes = headerBytes;
            args = new ArrayList<>((int) Math.min(n, 1024));
        }
        while (args.size() < expectedArgs) {
            if (bulkLength < 0) {
                if (!in.isReadable()) return null;
                byte b = in.getByte(in.readerIndex());
                if (b != '$') return new ProtocolError("expected '$', got '" + printable(b) + "'");
                int headerBytes = lineLength(in);
                if (headerBytes == INCOMPLETE) return null;
                if (headerBytes == TOO_LONG) return new ProtocolError("too big bulk count string");
                long len = number(in, headerBytes);
                if (len == Long.MIN_VALUE || len < 0 || len > maxBulkBytes) {
                    return new ProtocolError("invalid bulk length");
                }
                commandBytes += headerBytes + len + 2;
                if (commandBytes > maxCommandBytes) {
                    return new ProtocolError("command too large: " + commandBytes + " bytes or more, limit "
                            + maxCommandBytes + " bytes");
                }
                bulkLength = (int) len;
            }
            if (in.readableBytes() < bulkLength + 2) return null;
            byte[] arg = new byte[bulkLength];
            in.readBytes(arg);
            if (in.readByte() != '\r' || in.readByte() != '\n') return new ProtocolError("expected CRLF after bulk string");
            args.add(arg);
            bulkLength = -1;
        }
        var cmd = new RespCommand(args);
        expectedArgs = -1;
        args = null;
        return cmd;
    }

    private Object inline(ByteBuf in) {
        int eol = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
        if (eol < 0) {
            return in.readableBytes() > MAX_LINE ? new ProtocolError("too big inline request") : null;
        }
        if (eol - in.readerIndex() > MAX_LINE) return new ProtocolError("too big inline request");
        String text = in.toString(in.readerIndex(), eol - in.readerIndex(), StandardCharsets.ISO_8859_1);
        in.readerIndex(eol + 1);
        if (text.endsWith("\r")) text = text.substring(0, text.length() - 1);
        var parts = new ArrayList<byte[]>();
        for (String p : text.trim().split("[ \t]+")) {
            if (!p.isEmpty()) parts.add(p.getBytes(StandardCharsets.ISO_8859_1));
        }
        if (parts.isEmpty()) return SKIP;
        if (parts.size() > maxArgs) return new ProtocolError("invalid multibulk length");
        return new RespCommand(parts);
    }

    private static final int INCOMPLETE = -1;
    private static final int TOO_LONG = -2;

    /**
     * The length of the CRLF- (or LF-) terminated line at the reader index, terminator included:
     * INCOMPLETE if its end has not arrived, TOO_LONG past MAX_LINE. Reads nothing.
     */
    private static int lineLength(ByteBuf in) {
        int limit = Math.min(in.writerIndex(), in.readerIndex() + MAX_LINE + 2);
        int eol = in.indexOf(in.readerIndex(), limit, (byte) '\n');
        if (eol < 0) return in.readableBytes() > MAX_LINE ? TOO_LONG : INCOMPLETE;
        return eol + 1 - in.readerIndex();
    }

    /**
     * Consumes a header line of lineBytes bytes (type byte, digits, terminator) and returns its
     * number, parsed from the bytes without making a String; Long.MIN_VALUE when it is not one.
     */
    private static long number(ByteBuf in, int lineBytes) {
        int from = in.readerIndex() + 1;
        int end = in.readerIndex() + lineBytes - 1; // at the LF
        if (end > from && in.getByte(end - 1) == '\r') end--;
        in.readerIndex(in.readerIndex() + lineBytes);
        boolean negative = end > from && in.getByte(from) == '-';
        if (negative || (end > from && in.getByte(from) == '+')) from++;
        if (end <= from || end - from > 18) return Long.MIN_VALUE;
        long n = 0;
        for (int i = from; i < end; i++) {
            byte b = in.getByte(i);
            if (b < '0' || b > '9') return Long.MIN_VALUE;
            n = n * 10 + (b - '0');
        }
        return negative ? -n : n;
    }

    private static String printable(byte b) {
        return b >= 32 && b < 127 ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
    }
}
