package io.limedb.node.resp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** RESP2 reply encoding. */
public final class Resp {
    private static final byte[] CRLF = {'\r', '\n'};
    public static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);
    public static final byte[] NULL_BULK = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    public static final byte[] PONG = "+PONG\r\n".getBytes(StandardCharsets.US_ASCII);

    private Resp() {}

    public static ByteBuf raw(ByteBufAllocator a, byte[] bytes) {
        return a.buffer(bytes.length).writeBytes(bytes);
    }

    public static ByteBuf simple(ByteBufAllocator a, String s) {
        ByteBuf b = a.buffer(s.length() + 3);
        b.writeByte('+').writeCharSequence(s, StandardCharsets.UTF_8);
        return b.writeBytes(CRLF);
    }

    /** An error reply; the message starts with its code word (ERR, WRONGTYPE, CLUSTERDOWN, ...). */
    public static ByteBuf error(ByteBufAllocator a, String message) {
        String clean = message.replace('\r', ' ').replace('\n', ' ');
        ByteBuf b = a.buffer(clean.length() + 3);
        b.writeByte('-').writeCharSequence(clean, StandardCharsets.UTF_8);
        return b.writeBytes(CRLF);
    }

    public static ByteBuf integer(ByteBufAllocator a, long n) {
        ByteBuf b = a.buffer(24);
        b.writeByte(':').writeCharSequence(Long.toString(n), StandardCharsets.US_ASCII);
        return b.writeBytes(CRLF);
    }

    public static ByteBuf bulk(ByteBufAllocator a, byte[] value) {
        if (value == null) return raw(a, NULL_BULK);
        ByteBuf b = a.buffer(value.length + 16);
        writeBulk(b, value);
        return b;
    }

    public static ByteBuf bulk(ByteBufAllocator a, String value) {
        return bulk(a, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** An array of bulk strings; null elements are null bulks. */
    public static ByteBuf array(ByteBufAllocator a, List<byte[]> values) {
        int size = 16;
        for (byte[] v : values) size += v == null ? 5 : v.length + 16;
        ByteBuf b = a.buffer(size);
        b.writeByte('*').writeCharSequence(Integer.toString(values.size()), StandardCharsets.US_ASCII);
        b.writeBytes(CRLF);
        for (byte[] v : values) {
            if (v == null) b.writeBytes(NULL_BULK);
            else writeBulk(b, v);
        }
        return b;
    }

    private static void writeBulk(ByteBuf b, byte[] value) {
        b.writeByte('$').writeCharSequence(Integer.toString(value.length), StandardCharsets.US_ASCII);
        b.writeBytes(CRLF).writeBytes(value).writeBytes(CRLF);
    }
}
