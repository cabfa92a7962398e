package dev.wsbridge.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The values the bridge writes into identity and {@code Forwarded} headers: never a split header, RFC 7239 syntax. */
class ForwardedHeadersTest {

    @Test
    void printableAsciiPassesAndEverythingElseIsEscaped() {
        assertEquals("alice", ForwardedHeaders.printable("alice"));
        assertEquals("CN=Alice Smith,O=Example", ForwardedHeaders.printable("CN=Alice Smith,O=Example"));
        assertEquals("Jos%C3%A9", ForwardedHeaders.printable("José"));
        assertEquals("eve%0D%0AX-Forwarded-User: admin", ForwardedHeaders.printable("eve\r\nX-Forwarded-User: admin"));
        assertEquals("100%25", ForwardedHeaders.printable("100%"));
        assertEquals("%F0%9F%98%80", ForwardedHeaders.printable("\uD83D\uDE00"));
    }

    @Test
    void forwardedNodesFollowRfc7239() {
        assertEquals("192.0.2.43", ForwardedHeaders.node("192.0.2.43"));
        assertEquals("\"[2001:db8:cafe::17]\"", ForwardedHeaders.node("2001:db8:cafe::17"));
        assertEquals("\"[2001:db8:cafe::17]\"", ForwardedHeaders.node("[2001:db8:cafe::17]"));
    }
}
