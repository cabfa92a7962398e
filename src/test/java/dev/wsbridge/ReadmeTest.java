package dev.wsbridge;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.wsbridge.config.BridgeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keeps the init-param table of README.md in step with {@link BridgeConfig#DEFAULTS}: the same params in
 * the same order, the same defaults, and examples that parse.
 */
class ReadmeTest {

    private static final String HEADER = "| init-param | meaning | default | example |";
    private static final Pattern CODE = Pattern.compile("`([^`]*)`");

    /** One row of the table: the param, its default column as written, and its example value. */
    record Row(String param, String defaultColumn, String example) {
        @Override
        public String toString() {
            return param;
        }
    }

    @Test
    void tableListsEveryParamInOrder() {
        List<String> params = rows().stream().map(Row::param).toList();

        assertEquals(List.copyOf(BridgeConfig.DEFAULTS.keySet()), params);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void defaultColumnMatchesTheCode(Row row) {
        String value = BridgeConfig.DEFAULTS.get(row.param());
        String expected = value == null ? "(required)" : value.isEmpty() ? "(none)" : "`" + value + "`";

        assertEquals(expected, row.defaultColumn());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void exampleParses(Row row) {
        Map<String, String> params = new HashMap<>(Map.of(BridgeConfig.PROXY_TO, "ws://b/"));
        params.put(row.param(), row.example());

        assertDoesNotThrow(() -> BridgeConfig.parse(params::get, name -> null, name -> null));
    }

    static List<Row> rows() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int header = lines.indexOf(HEADER);
        if (header < 0) {
            throw new AssertionError("README.md has no table with the header " + HEADER);
        }
        List<Row> rows = new ArrayList<>();
        // header + 2 skips the |---| separator line
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String[] cells = lines.get(i).split("\\|", -1);
            if (cells.length != 6) {
                throw new AssertionError("README.md line " + (i + 1) + " does not have 4 cells: " + lines.get(i));
            }
            rows.add(new Row(code(cells[1], i), cells[3].trim(), code(cells[4], i)));
        }
        return rows;
    }

    /** The value of a cell that is exactly one code span. */
    private static String code(String cell, int line) {
        Matcher m = CODE.matcher(cell.trim());
        if (!m.matches()) {
            throw new AssertionError("README.md line " + (line + 1) + " has [" + cell.trim() + "] where one `value` belongs");
        }
        return m.group(1);
    }
}
