package io.limedb.node.resp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RespDecoderTest {
    private static final int MAX_BULK = 1024;

    private final EmbeddedChannel ch = new EmbeddedChannel(new RespDecoder(100, MAX_BULK));

    private void feed(String s) {
        feed(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private void feed(byte[] b) {
        ch.writeInbound(Unpooled.wrappedBuffer(b));
    }

    private List<Object> drain() {
        var out = new ArrayList<Object>();
        Object o;
        while ((o = ch.readInbound()) != null) out.add(o);
        return out;
    }

    private static List<String> strings(Object cmd) {
        return ((RespCommand) cmd).args().stream().map(b -> new String(b, StandardCharsets.ISO_8859_1)).toList();
    }

    @Test
    void decodesOneMultibulkCommand() {
        feed("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
        var out = drain();
        assertThat(out).hasSize(1);
        assertThat(strings(out.get(0))).containsExactly("SET", "key", "value");
    }

    @Test
    void decodesACommandFedOneByteAtATime() {
        String frame = "*2\r\n$3\r\nGET\r\n$10\r\nabcdefghij\r\n";
        for (char c : frame.toCharArray()) {
            assertThat(drain()).isEmpty();
            feed(String.valueOf(c));
        }
        var out = drain();
        assertThat(out).hasSize(1);
        assertThat(strings(out.get(0))).containsExactly("GET", "abcdefghij");
    }

    @Test
    void decodesPipelinedCommandsInOrderIncludingOneSplitAcrossReads() {
        feed("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGE");
        var first = drain();
        assertThat(first).hasSize(2);
        feed("T\r\n$1\r\nb\r\n");
        var second = drain();
        assertThat(strings(first.get(0))).containsExactly("PING");
        assertThat(strings(first.get(1))).containsExactly("GET", "a");
        assertThat(strings(second.get(0))).containsExactly("GET", "b");
    }

    @Test
    void bulkStringsAreBinarySafe() {
        byte[] value = {0, '\r', '\n', (byte) 0xff, '*', '$', 0};
        var frame = new java.io.ByteArrayOutputStream();
        frame.writeBytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\n".getBytes(StandardCharsets.US_ASCII));
        frame.writeBytes(value);
        frame.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        feed(frame.toByteArray());
        var cmd = (RespCommand) drain().get(0);
        assertThat(cmd.arg(2)).containsExactly(value);
    }

    @Test
    void decodesInlineCommands() {
        feed("PING\r\nSET  a   b\nGET a\r\n\r\n");
        var out = drain();
        assertThat(out).hasSize(3);
        assertThat(strings(out.get(1))).containsExactly("SET", "a", "b");
        assertThat(strings(out.get(2))).containsExactly("GET", "a");
    }

    @Test
    void emptyMultibulkIsIgnored() {
        feed("*0\r\n*1\r\n$4\r\nPING\r\n");
        assertThat(drain()).hasSize(1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "*abc\\r\\n|invalid multibulk length",
        "*101\\r\\n|invalid multibulk length",
        "*99999999999999999999\\r\\n|invalid multibulk length",
        "*1\\r\\nGET\\r\\n|expected '$', got 'G'",
        "*1\\r\\n$x\\r\\n|invalid bulk length",
        "*1\\r\\n$-1\\r\\n|invalid bulk length",
        "*1\\r\\n$1025\\r\\n|invalid bulk length",
        "*1\\r\\n$3\\r\\nabcXY|expected CRLF after bulk string",
    })
    void malformedFramingGivesOneProtocolErrorAndIgnoresTheRest(String input, String message) {
        feed(input.replace("\\r", "\r").replace("\\n", "\n"));
        feed("*1\r\n$4\r\nPING\r\n"); // a valid command after the garbage is not executed
        var out = drain();
        assertThat(out).hasSize(1);
        assertThat(out.get(0)).isInstanceOf(RespDecoder.ProtocolError.class);
        assertThat(((RespDecoder.ProtocolError) out.get(0)).message()).isEqualTo(message);
    }

    @Test
    void tooLongInlineRequestIsAProtocolError() {
        feed("GET " + "x".repeat(RespDecoder.MAX_LINE + 10));
        var out = drain();
        assertThat(out).singleElement().isEqualTo(new RespDecoder.ProtocolError("too big inline request"));
    }

    @Test
    void tooLongHeaderLineIsAProtocolError() {
        feed("*" + "1".repeat(RespDecoder.MAX_LINE + 10));
        assertThat(drain()).singleElement().isEqualTo(new RespDecoder.ProtocolError("too big multibulk count"));
    }

    @Test
    void aCommandPastItsByteLimitIsRefusedAsItsHeaderIsReadBeforeThePayloadArrives() {
        var limited = new EmbeddedChannel(new RespDecoder(100, MAX_BULK, 64));
        // 4 (*3) + 9 ($3 SET) + 7 ($1 k) = 20 bytes so far; a declared 40-byte bulk makes 20 + 5 + 42 = 67 > 64.
        limited.writeInbound(Unpooled.copiedBuffer("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$40\r\n", StandardCharsets.US_ASCII));
        Object first = limited.readInbound();
        assertThat(first).isEqualTo(new RespDecoder.ProtocolError("command too large: 67 bytes or more, limit 64 bytes"));
        // Whatever follows (the payload, later commands) is ignored.
        limited.writeInbound(Unpooled.copiedBuffer("x".repeat(40) + "\r\n*1\r\n$4\r\nPING\r\n", StandardCharsets.US_ASCII));
        assertThat((Object) limited.readInbound()).isNull();
    }

    @Test
    void manySmallArgumentsAddUpToTheCommandLimit() {
        var limited = new EmbeddedChannel(new RespDecoder(1000, MAX_BULK, 100));
        var cmd = new StringBuilder("*50\r\n$4\r\nMGET\r\n");
        for (int i = 0; i < 49; i++) cmd.append("$1\r\na\r\n"); // 7 bytes each
        limited.writeInbound(Unpooled.copiedBuffer(cmd, StandardCharsets.US_ASCII));
        Object out = limited.readInbound();
        assertThat(out).isInstanceOf(RespDecoder.ProtocolError.class);
        assertThat(((RespDecoder.ProtocolError) out).message()).startsWith("command too large: ").endsWith("limit 100 bytes");
    }

    @Test
    void commandsAtTheByteLimitAreAcceptedOneAfterAnother() {
        String set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n"; // 37 bytes
        assertThat(set).hasSize(37);
        var limited = new EmbeddedChannel(new RespDecoder(100, MAX_BULK, 37));
        limited.writeInbound(Unpooled.copiedBuffer(set + set + set, StandardCharsets.US_ASCII));
        for (int i = 0; i < 3; i++) assertThat(strings(limited.readInbound())).containsExactly("SET", "k", "0123456789");
        assertThat((Object) limited.readInbound()).isNull();
    }

    @Test
    void bulkAtTheLimitIsAccepted() {
        String v = "v".repeat(MAX_BULK);
        feed("*2\r\n$4\r\nECHO\r\n$" + MAX_BULK + "\r\n" + v + "\r\n");
        assertThat(strings(drain().get(0)).get(1)).hasSize(MAX_BULK);
    }
}
