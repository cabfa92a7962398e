package dev.wsbridge.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Collections;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * More self-signed key stores beside {@link TestTls}'s, made with the JDK's keytool under
 * {@code target/test-tls/}: a backend certificate for another host name, and a client certificate for mutual
 * TLS. Each is its own trust anchor, so a trust store holding one trusts nothing else.
 */
public final class TestCerts {

    private TestCerts() {
    }

    /** A PKCS12 key store (password {@link TestTls#PASSWORD}) with a key and a certificate for {@code dnsName}. */
    public static synchronized Path store(String file, String dnsName) {
        Path path = Path.of("target", "test-tls", file + ".p12").toAbsolutePath();
        if (Files.exists(path)) {
            return path;
        }
        try {
            Files.createDirectories(path.getParent());
            Path tmp = path.resolveSibling(file + ".tmp.p12");
            Files.deleteIfExists(tmp);
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", file, "-keyalg", "EC",
                    "-groupname", "secp256r1", "-validity", "3650", "-dname", "CN=" + dnsName, "-ext", "SAN=dns:" + dnsName,
                    "-keystore", tmp.toString(), "-storetype", "PKCS12", "-storepass", TestTls.PASSWORD,
                    "-keypass", TestTls.PASSWORD).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + out);
            }
            Files.move(tmp, path);
            return path;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The client certificate shown to backends that ask for one. */
    public static Path client() {
        return store("wsbridge-client", "wsbridge-client");
    }

    /** A backend certificate that names {@code other.example}, not {@code localhost}. */
    public static Path otherHost() {
        return store("other-host", "other.example");
    }

    /**
     * A PKCS12 trust store beside {@code keyStore} holding its certificates as trusted entries only: the JDK's
     * PKIX trust manager (Tomcat's) takes no anchor from a key entry, Jetty's does.
     */
    public static synchronized Path trustOnly(Path keyStore) {
        String name = keyStore.getFileName().toString().replace(".p12", "");
        Path path = keyStore.resolveSibling(name + "-trust.p12");
        if (Files.exists(path)) {
            return path;
        }
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                keys.load(in, TestTls.PASSWORD.toCharArray());
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (String alias : Collections.list(keys.aliases())) {
                trust.setCertificateEntry(alias, keys.getCertificate(alias));
            }
            Path tmp = path.resolveSibling(name + "-trust.tmp.p12");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                trust.store(out, TestTls.PASSWORD.toCharArray());
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            return path;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A server TLS factory with the key in {@code keyStore}. */
    public static SslContextFactory.Server server(Path keyStore) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(keyStore.toString());
        ssl.setKeyStorePassword(TestTls.PASSWORD);
        ssl.setKeyStoreType("PKCS12");
        return ssl;
    }

    /** A server TLS factory with the test certificate that requires a client certificate trusted by {@code clients}. */
    public static SslContextFactory.Server mutual(Path clients) {
        SslContextFactory.Server ssl = TestTls.serverTls();
        ssl.setTrustStorePath(clients.toString());
        ssl.setTrustStorePassword(TestTls.PASSWORD);
        ssl.setTrustStoreType("PKCS12");
        ssl.setNeedClientAuth(true);
        return ssl;
    }
}
