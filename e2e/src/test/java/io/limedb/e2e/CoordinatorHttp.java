package io.limedb.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** The coordinator's REST API (/api/v1/...) as the end-to-end tests use it, over a local port. */
final class CoordinatorHttp {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;

    CoordinatorHttp(int localPort) {
        this.base = URI.create("http://127.0.0.1:" + localPort);
    }

    /** POST /api/v1/set; returns the HTTP status. */
    int set(String key, String value) throws IOException, InterruptedException {
        var body = "{\"key\":\"" + key + "\",\"value\":\"" + value + "\"}";
        return send(HttpRequest.newBuilder(base.resolve("/api/v1/set"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))).statusCode();
    }

    /** GET /api/v1/get/{key}: the value, empty on 404; other statuses throw. */
    Optional<String> get(String key) throws IOException, InterruptedException {
        var response = send(HttpRequest.newBuilder(base.resolve("/api/v1/get/" + key)).GET());
        return switch (response.statusCode()) {
            case 200 -> Optional.of(response.body());
            case 404 -> Optional.empty();
            default -> throw new IOException("GET " + key + ": HTTP " + response.statusCode() + " " + response.body());
        };
    }

    int ready() throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve("/health/ready")).GET()).statusCode();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
