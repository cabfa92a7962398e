package dev.wsbridge.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The answer to each kind of permessage-deflate offer (RFC 7692 §7.1), with the defaults and with context takeover. */
class PerMessageDeflateTest {

    private static final String RESET = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "NONE", value = {
        "permessage-deflate                                                   | " + RESET,
        "PerMessage-Deflate                                                   | " + RESET,
        "permessage-deflate; client_max_window_bits                           | " + RESET,
        "permessage-deflate; client_max_window_bits=10                        | " + RESET + "; client_max_window_bits=10",
        "permessage-deflate; client_max_window_bits=\"12\"                    | " + RESET + "; client_max_window_bits=12",
        "permessage-deflate; server_max_window_bits=15                        | " + RESET,
        "permessage-deflate; server_no_context_takeover                       | " + RESET,
        "x-webkit-deflate-frame, permessage-deflate                           | " + RESET,
        "permessage-deflate; server_max_window_bits=10, permessage-deflate    | " + RESET,
        "permessage-deflate; server_max_window_bits=10                        | NONE",
        "permessage-deflate; server_max_window_bits                           | NONE",
        "permessage-deflate; client_max_window_bits=16                        | NONE",
        "permessage-deflate; client_max_window_bits=010                       | NONE",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover | NONE",
        "permessage-deflate; server_no_context_takeover=1                     | NONE",
        "permessage-deflate; mystery                                          | NONE",
        "permessage-deflate; client_max_window_bits=\"9                       | NONE",
        "x-webkit-deflate-frame                                               | NONE",
    })
    void defaultsAnswerWithoutContextTakeover(String offer, String answer) {
        PerMessageDeflate.Agreement a = PerMessageDeflate.negotiate(List.of(offer), false, 15);
        if (answer == null) {
            assertNull(a, offer);
        } else {
            assertEquals(answer, a.response(), offer);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "permessage-deflate                                      | permessage-deflate                             | false | false",
        "permessage-deflate; client_no_context_takeover          | permessage-deflate; client_no_context_takeover | false | false",
        "permessage-deflate; server_no_context_takeover          | permessage-deflate; server_no_context_takeover | true  | false",
        "permessage-deflate; client_max_window_bits              | permessage-deflate; client_max_window_bits=10  | false | false",
        "permessage-deflate; client_max_window_bits=9            | permessage-deflate; client_max_window_bits=9   | false | false",
    })
    void contextTakeoverFollowsTheOffer(String offer, String answer, boolean resetDeflater, boolean resetInflater) {
        PerMessageDeflate.Agreement a = PerMessageDeflate.negotiate(List.of(offer), true, 10);
        assertEquals(new PerMessageDeflate.Agreement(resetDeflater, resetInflater, answer), a);
    }
}
