package org.paligemma4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.paligemma4j.PaliGemma;
import org.paligemma4j.testing.Fixtures;

/**
 * A real browser through the web page: headless Chromium (Debian's chromium and chromium-driver, which .ci/run
 * installs) uploads a fixture image, runs detect, and the streamed text equals the API's answer while the boxes
 * are drawn on the canvas (its pixels are read back).
 */
class WebPageBrowserTest {
    /** The first valid box's colour in the page's palette. */
    static final List<Long> FIRST_BOX_RGB = List.of(255L, 0L, 255L);

    static Path executable(String... candidates) {
        for (String c : candidates) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) return p;
        }
        throw new IllegalStateException("the browser test needs " + String.join(" or ", candidates)
                + ": install Debian's chromium and chromium-driver packages (.ci/run does)");
    }

    /** Polls {@code condition} for up to 30 seconds (bounded), failing with {@code what}. */
    static void waitUntil(WebDriver driver, java.util.function.Predicate<WebDriver> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.test(driver)) return;
            } catch (org.openqa.selenium.NoSuchElementException | org.openqa.selenium.StaleElementReferenceException notYet) {
                // the page is still building
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting until " + what);
    }

    @Test
    void detectInTheBrowserStreamsTheApisTextAndDrawsTheBoxes() throws Exception {
        Path browser = executable("/usr/bin/chromium", "/usr/bin/chromium-browser");
        Path driverBinary = executable("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
        Path image = Fixtures.path("images", "shapes_text.png");
        try (PaliGemma model = PaliGemma.open(Fixtures.path("paligemma-tiny"));
             PaliGemmaServer server = PaliGemmaServer.start(ServerOptions.defaults("paligemma-tiny").withPort(0), model)) {
            TestClient client = new TestClient(server);
            JsonNode expected = client.post("/v1/detect", TestClient.JSON.createObjectNode()
                    .put("image", TestClient.dataUri(image)).put("labels", "house").put("max_new_tokens", 64)).json();
            JsonNode firstValid = null;
            for (JsonNode o : expected.get("objects")) {
                if (o.get("valid").asBoolean()) {
                    firstValid = o;
                    break;
                }
            }
            assertTrue(firstValid != null, "the fixture should give a valid box to draw: " + expected);

            ChromeOptions options = new ChromeOptions();
            options.setBinary(browser.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions", "--window-size=1280,900");
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverBinary.toFile())
                    .usingAnyFreePort().build();
            WebDriver driver = new ChromeDriver(service, options);
            try {
                driver.get(server.url());
                waitUntil(driver, d -> d.findElement(By.id("health")).getText().equals("ready"), "the page shows the server ready");
                driver.findElement(By.id("file")).sendKeys(image.toAbsolutePath().toString());
                waitUntil(driver, d -> d.findElement(By.id("run")).isEnabled(), "the image loads and Run is enabled");
                ((JavascriptExecutor) driver).executeScript("const t = document.getElementById('task'); t.value = 'detect';"
                        + " t.dispatchEvent(new Event('change'));");
                driver.findElement(By.id("input")).sendKeys("house");
                driver.findElement(By.id("max")).clear();
                driver.findElement(By.id("max")).sendKeys("64");
                driver.findElement(By.id("run")).click();
                waitUntil(driver, d -> "done".equals(d.findElement(By.id("output")).getAttribute("data-state")), "the run finishes");
                assertEquals("", driver.findElement(By.id("error")).getText());

                JavascriptExecutor js = (JavascriptExecutor) driver;
                String streamed = (String) js.executeScript("return document.getElementById('output').textContent;");
                assertEquals(expected.get("text").asText(), streamed);
                assertEquals(expected.get("objects").size(), driver.findElements(By.cssSelector("#objects li")).size());

                JsonNode box = firstValid.get("box");
                int x = (box.get("x_min").asInt() + box.get("x_max").asInt()) / 2, y = box.get("y_max").asInt() - 1;
                @SuppressWarnings("unchecked")
                List<Long> rgb = (List<Long>) js.executeScript(
                        "const d = document.getElementById('canvas').getContext('2d').getImageData(arguments[0], arguments[1], 1, 1).data;"
                                + " return [d[0], d[1], d[2]];", x, y);
                assertEquals(FIRST_BOX_RGB, rgb, "the first box's bottom edge at (" + x + ", " + y + ")");
                Long width = (Long) js.executeScript("return document.getElementById('canvas').width;");
                assertEquals(expected.get("image").get("width").asLong(), width);
            } finally {
                driver.quit();
            }
        }
    }
}
