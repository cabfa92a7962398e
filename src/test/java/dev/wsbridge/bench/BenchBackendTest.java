package dev.wsbridge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;

/** The benchmark backend's HTTP path: what the GET figure requests, and nothing else. */
class BenchBackendTest {

    @Test
    void aGetOfHelloIsAnsweredWithItsBytesAndAnythingElseIsNotFound() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("test-bench-client");
        HttpClient client = new HttpClient();
        client.setExecutor(threads);
        try (BenchBackend backend = new BenchBackend()) {
            client.start();
            String base = "http://127.0.0.1:" + backend.port() + "/";

            ContentResponse hello = client.newRequest(base + BenchBackend.HELLO).timeout(5, TimeUnit.SECONDS).send();
            assertEquals(200, hello.getStatus());
            assertEquals(BenchBackend.HELLO_SIZE, hello.getContent().length);
            assertEquals(Integer.toString(BenchBackend.HELLO_SIZE), hello.getHeaders().get(HttpHeader.CONTENT_LENGTH));

            assertEquals(404, client.newRequest(base + BenchBackend.HELLO).method(HttpMethod.POST)
                    .timeout(5, TimeUnit.SECONDS).send().getStatus());
            assertEquals(404, client.newRequest(base + BenchBackend.ECHO).timeout(5, TimeUnit.SECONDS).send().getStatus());
        } finally {
            client.stop();
        }
    }
}
