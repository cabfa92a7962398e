package dev.wsbridge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How the benchmark names its targets and writes its cells and ratios. */
class BenchTableTest {

    @Test
    void targetsGoByTheirNamesInBenchTargets() {
        assertEquals(Bench.Target.TOMCAT_ECHO, Bench.Target.named("tomcat-echo"));
        assertEquals(Bench.Target.HAPROXY, Bench.Target.named("haproxy"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bench.Target.named("tomcat_echo"));
        assertEquals("system property [bench.targets] has value [tomcat_echo]; expected a comma-separated list of"
                + " direct, nginx, haproxy, tomcat-echo, tomcat, jetty-echo, jetty", e.getMessage());
    }

    @Test
    void aRatioHasTwoDecimals() {
        assertEquals("0.35", Bench.ratio(43_272, 124_955));
        assertEquals("3.96", Bench.ratio(212, 53.5));
    }

    @Test
    void aRatioToAFigureThatIsMissingOrZeroIsADash() {
        assertEquals("-", Bench.ratio(Double.NaN, 100));
        assertEquals("-", Bench.ratio(100, Double.NaN));
        assertEquals("-", Bench.ratio(100, 0));
    }

    @Test
    void aCellIsTheMedianWithHalfTheSpreadOrADash() {
        assertEquals("25,121 ±12%", Bench.cell(List.of(22_100.0, 25_121.0, 28_130.0), "%,.0f"));
        assertEquals("-", Bench.cell(null, "%,.0f"));
    }
}
