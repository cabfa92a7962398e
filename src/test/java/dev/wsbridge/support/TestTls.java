package dev.wsbridge.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * A self-signed certificate for {@code localhost}, made once per build with the JDK's keytool, used as
 * both the containers' key store and the test clients' trust store: real TLS, nothing trusted blindly.
 */
public final class TestTls {

    public static final String PASSWORD = "changeit";
    private static final String ALIAS = "localhost";
    private static Path keystore;
    private static Path pem;

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
                Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", ALIAS,
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

    /**
     * The same certificate and key as one PEM file, the certificate first and then the key (PKCS#8), for
     * servers that take PEM: nginx ({@code ssl_certificate} and {@code ssl_certificate_key} both name it) and
     * HAProxy ({@code crt}). Written next to the key store on first use.
     */
    public static synchronized Path pem() {
        if (pem != null) {
            return pem;
        }
        Path file = keystore().resolveSibling("localhost.pem");
        try (InputStream in = Files.newInputStream(keystore())) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, PASSWORD.toCharArray());
            String text = pemBlock("CERTIFICATE", store.getCertificate(ALIAS).getEncoded())
                    + pemBlock("PRIVATE KEY", store.getKey(ALIAS, PASSWORD.toCharArray()).getEncoded());
            Path tmp = Files.createTempFile(file.getParent(), "localhost", ".pem");
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot write [" + file + "] from [" + keystore() + "]", e);
        }
        pem = file;
        return file;
    }

    private static String pemBlock(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
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
