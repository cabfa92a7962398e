package dev.wsbridge.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * A self-signed certificate for {@code localhost}, made once per build with the JDK's keytool, used as
 * both the containers' key store and the test clients' trust store: real TLS, nothing trusted blindly.
 */
public final class TestTls {

    public static final String PASSWORD = "changeit";
    private static Path keystore;

    private TestTls() {
    }

    /** The PKCS12 key store, created under {@code target/test-tls/} on first use. */
    public static synchronized Path keystore() {
        if (keystore != null) {
            return keystore;
        }
        Path file = Path.of("target", "test-tls", "localhost.p12").toAbsolutePath();
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(file.getParent());
                Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
                Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "localhost",
                        "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "3650", "-dname", "CN=localhost",
                        "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", file.toString(), "-storetype", "PKCS12",
                        "-storepass", PASSWORD, "-keypass", PASSWORD)
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("keytool failed: " + out);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        keystore = file;
        return file;
    }

    /** A client TLS factory that trusts exactly the test certificate and checks the host name. */
    public static SslContextFactory.Client clientTls() {
        SslContextFactory.Client ssl = new SslContextFactory.Client();
        ssl.setTrustStorePath(keystore().toString());
        ssl.setTrustStorePassword(PASSWORD);
        ssl.setTrustStoreType("PKCS12");
        return ssl;
    }

    /** A server TLS factory with the test certificate. */
    public static SslContextFactory.Server serverTls() {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(keystore().toString());
        ssl.setKeyStorePassword(PASSWORD);
        ssl.setKeyStoreType("PKCS12");
        return ssl;
    }
}
