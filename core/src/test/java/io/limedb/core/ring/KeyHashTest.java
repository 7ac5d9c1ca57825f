package io.limedb.core.ring;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyHashTest {

    private static long h(String s) {
        return KeyHash.of(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Reference values from an independent MurmurHash3 x64/128 implementation (Python mmh3.hash64, seed 0). */
    @Test
    void matchesReferenceVectorsSoPositionsAreStableAcrossJvmsAndVersions() {
        assertThat(h("")).isEqualTo(0L);
        assertThat(h("a")).isEqualTo(-8839064797231613815L);
        assertThat(h("hello")).isEqualTo(-3758069500696749310L);
        assertThat(h("user:1000")).isEqualTo(-5398646197704549862L);
        assertThat(h("0123456789abcdef")).isEqualTo(5467490433528156583L);        // exactly one block
        assertThat(h("0123456789abcdefXYZ")).isEqualTo(-7362412312553418723L);    // block + tail
        byte[] bin = new byte[40];
        for (int i = 0; i < bin.length; i++) bin[i] = (byte) i;
        assertThat(KeyHash.of(bin)).isEqualTo(-4350383952250503068L);
    }

    @Test
    void hashesASliceLikeTheWholeArray() {
        byte[] buf = "xxhello-yy".getBytes(StandardCharsets.UTF_8);
        assertThat(KeyHash.of(buf, 2, 5)).isEqualTo(h("hello"));
    }
}
