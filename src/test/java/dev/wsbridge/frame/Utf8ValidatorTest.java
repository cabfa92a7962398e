package dev.wsbridge.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The streaming validator against the JDK's strict decoder, whole and split at every byte. */
class Utf8ValidatorTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "41", "c2a9", "e282ac", "f09f9880", "f48fbfbf", "ed9fbf", "ee8080", "efbfbf",
            "c0af", "c1bf", "e080af", "eda080", "edbfbf", "f08fbfbf", "f4908080", "f5808080", "ff", "80", "c2",
            "e282", "f09f98", "c241", "e28241", "cebae1bdb9cf83cebcceb5eda080656469746564"})
    void agreesWithTheJdkWholeAndSplitAtEveryByte(String hex) {
        byte[] bytes = HexFormat.of().parseHex(hex);
        boolean valid = jdkAccepts(bytes);
        for (int cut = 0; cut <= bytes.length; cut++) {
            Utf8Validator v = new Utf8Validator();
            boolean ok = v.accept(bytes, 0, cut) && v.accept(bytes, cut, bytes.length - cut) && v.isComplete();
            assertEquals(valid, ok, hex + " cut at " + cut);
        }
    }

    @Test
    void agreesWithTheJdkOnRandomBytes() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[1 + random.nextInt(8)];
            for (int k = 0; k < bytes.length; k++) {
                bytes[k] = (byte) (random.nextBoolean() ? 0x80 + random.nextInt(0x80) : random.nextInt(0x100));
            }
            Utf8Validator v = new Utf8Validator();
            assertEquals(jdkAccepts(bytes), v.accept(bytes, 0, bytes.length) && v.isComplete(),
                    HexFormat.of().formatHex(bytes));
        }
    }

    private static boolean jdkAccepts(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
