package io.pgrelay.dashboard;

import io.pgrelay.sandbox.cluster.AgentConfigs;
import io.pgrelay.sandbox.cluster.AgentProcess;
import io.pgrelay.sandbox.cluster.Cluster;
import io.pgrelay.sandbox.cluster.DashboardProcess;
import io.pgrelay.sandbox.demo.LoadGenerator;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard page in Debian's headless Chromium, driven through the system chromedriver,
 * against three real agents under load. Leaves a screenshot in {@code docs/dashboard.png}.
 */
@ExtendWith(SandboxExtension.class)
class DashboardBrowserIT {

    private static final String TOKEN = "browser-admin-token";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private final Sandbox sandbox = Sandbox.shared();

    @Test
    void pageShowsTheClusterFollowsAKillAndHandsOverWithTheToken() throws Exception {
        assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
                .as("%s and %s (./scripts/test installs them; or apt-get install -y chromium chromium-driver)", CHROMIUM, CHROMEDRIVER).isTrue();
        String name = DashboardItSupport.uniqueCluster("dweb");
        String table = "public." + name + "_load";
        LoadGenerator load = new LoadGenerator(this::connect, table);
        load.createTable();
        // rows from before the cluster: its initial snapshot gives the page a progress bar to show
        sandbox.postgres().execute("INSERT INTO " + table + " (id, version, payload) SELECT g, 0, 'seed' FROM generate_series(1000000, 1004999) g");
        AgentConfigs configs = new AgentConfigs(sandbox, name).mode("slot").tables(table).adminToken(TOKEN).snapshot("initial", 1000);
        AtomicBoolean stopLoad = new AtomicBoolean();
        Path profile = Files.createTempDirectory("pgrelay-chromium-");
        try (Cluster cluster = Cluster.start(configs, 3)) {
            Cluster.Member leader = cluster.awaitLeader(30_000);
            CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> load.write(Long.MAX_VALUE, 20, 5, 300, stopLoad));
            String urls = cluster.members().stream().map(Cluster.Member::url).collect(Collectors.joining(","));
            try (DashboardProcess dashboard = DashboardProcess.start("--agents", urls)) {
                ChromeDriverService service = new ChromeDriverService.Builder()
                        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
                WebDriver browser = new ChromeDriver(service, options(profile));
                try {
                    exercise(browser, cluster, leader, dashboard, configs.slot());
                } finally {
                    browser.quit();
                    service.stop();
                }
            } finally {
                stopLoad.set(true);
                writes.get();
            }
        } finally {
            stopLoad.set(true);
            deleteRecursively(profile);
            DashboardItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
        }
    }

    private void exercise(WebDriver browser, Cluster cluster, Cluster.Member leader, DashboardProcess dashboard, String slot)
            throws Exception {
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20), Duration.ofMillis(100));
        wait.ignoring(StaleElementReferenceException.class).ignoring(NoSuchElementException.class);
        long t0 = System.nanoTime();
        browser.get(dashboard.url());
        wait.until(d -> leader.id().equals(text(d, By.id("leader")))
                && d.findElements(By.cssSelector("#agents .agent[data-reachable='true']")).size() == 3);
        for (Cluster.Member m : cluster.members()) {
            String role = text(browser, By.cssSelector(".agent[data-agent='" + m.id() + "'] .role"));
            assertThat(role).as(m.id()).isEqualTo(m == leader ? "leader" : "standby");
        }
        assertThat(text(browser, By.id("slot"))).contains(slot).contains("confirmed flush LSN");
        wait.until(d -> points(d, "chart-lag-bytes") > 2 && points(d, "chart-events") > 2);
        // the panel is redrawn every second: read each version of it whole, and retry on a stale one
        By snapshotRow = By.cssSelector("#snapshot li[data-state='done']");
        wait.until(d -> {
            List<WebElement> rows = d.findElements(snapshotRow);
            if (rows.isEmpty()) {
                return false;
            }
            WebElement bar = rows.get(0).findElement(By.tagName("progress"));
            String value = bar.getAttribute("value");
            return value != null && value.equals(bar.getAttribute("max")) && rows.get(0).getText().contains("_load");
        });
        System.out.printf("DashboardBrowserIT: page shows three agents, the leader and charted lag after %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);

        leader.process().kill();
        long killedAt = System.nanoTime();
        String oldCard = ".agent[data-agent='" + leader.id() + "']";
        wait.until(d -> {
            String shown = text(d, By.id("leader"));
            return !shown.equals(leader.id()) && !shown.equals("none")
                    && "false".equals(d.findElement(By.cssSelector(oldCard)).getAttribute("data-reachable"));
        });
        String newLeader = text(browser, By.id("leader"));
        long shownMs = (System.nanoTime() - killedAt) / 1_000_000;
        assertThat(text(browser, By.cssSelector(oldCard + " .reach"))).isEqualTo("unreachable");
        System.out.printf("DashboardBrowserIT: SIGKILL of %s to the page showing %s leading and %s unreachable: %d ms%n",
                leader.id(), newLeader, leader.id(), shownMs);
        assertThat(shownMs).isLessThan(15_000);

        String target = cluster.members().stream().map(Cluster.Member::id)
                .filter(id -> !id.equals(leader.id()) && !id.equals(newLeader)).findFirst().orElseThrow();
        By button = By.cssSelector("[data-handover='" + target + "']");
        wait.until(d -> {
            d.findElement(button).click(); // the cards are redrawn every second: retried when stale
            return true;
        });
        wait.until(d -> d.findElement(By.id("handover-dialog")).isDisplayed());
        browser.findElement(By.id("token-input")).sendKeys(TOKEN);
        browser.findElement(By.id("handover-submit")).click();
        long clickedAt = System.nanoTime();
        wait.until(d -> target.equals(text(d, By.id("leader"))));
        System.out.printf("DashboardBrowserIT: handover click to the page showing %s leading: %d ms%n",
                target, (System.nanoTime() - clickedAt) / 1_000_000);
        assertThat(text(browser, By.id("handover-result"))).contains("accepted");
        wait.until(d -> d.findElements(By.cssSelector("#timeline li[data-leader]")).size() >= 3);

        // the token was for that one request: not in the page, its storage or cookies
        assertThat(browser.getPageSource()).doesNotContain(TOKEN);
        Object stored = ((JavascriptExecutor) browser).executeScript(
                "return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie"
                        + " + document.getElementById('token-input').value");
        assertThat(String.valueOf(stored)).doesNotContain(TOKEN);
        assertThat(dashboard.log()).doesNotContain(TOKEN);

        Thread.sleep(2500); // one more history fetch, so the charts show the handover
        Path png = DashboardItSupport.projectRoot().resolve("docs/dashboard.png");
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), png, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(shot.toPath());
        System.out.printf("DashboardBrowserIT: screenshot saved to %s%n", png);

        // a phone's width: one column, nothing wider than the screen
        browser.manage().window().setSize(new Dimension(390, 844));
        wait.until(d -> ((Number) ((JavascriptExecutor) d).executeScript(
                "return document.documentElement.scrollWidth - window.innerWidth")).intValue() <= 0);
        assertThat(fresh(() -> browser.findElement(By.cssSelector(".agent[data-agent='" + target + "']")).getSize().getWidth()))
                .isGreaterThan(300);
    }

    /**
     * Names from outside the dashboard are put in the page as text: a table name holding markup
     * (its snapshot row). An agent id cannot hold markup: the agent refuses it at config time.
     */
    @Test
    void aTableNameHoldingMarkupIsShownAsTextAndAnAgentIdCannotHoldIt() throws Exception {
        String name = DashboardItSupport.uniqueCluster("dxss");
        String hostileTable = name + "<img src=x onerror=window.__pwned=1>";
        String table = "public.\"" + hostileTable + "\"";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text)",
                "INSERT INTO " + table + " SELECT g, 'seed' FROM generate_series(1, 50) g");
        AgentConfigs configs = new AgentConfigs(sandbox, name).mode("slot").tables(table).snapshot("initial", 1000);
        int port = io.pgrelay.sandbox.server.Ports.free();
        Path profile = Files.createTempDirectory("pgrelay-chromium-");
        try {
            String hostileId = "<img src=x onerror=window.__pwned=2>";
            try (AgentProcess refused = AgentProcess.prepare("hostile", configs.yaml("'" + hostileId + "'", port))) {
                AgentProcess.CommandResult check = refused.runCommand("check", 60);
                assertThat(check.exitCode()).as(check.output()).isNotZero();
                assertThat(check.output()).contains("agent.id: '" + hostileId + "' may hold only letters, digits, '.', '_' and '-'");
            }
            try (AgentProcess agent = AgentProcess.start("agent-1", configs.yaml("agent-1", port));
                    DashboardProcess dashboard = DashboardProcess.start("--agents", "http://127.0.0.1:" + port)) {
                ChromeDriverService service = new ChromeDriverService.Builder()
                        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
                WebDriver browser = new ChromeDriver(service, options(profile));
                try {
                    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60), Duration.ofMillis(100));
                    wait.ignoring(StaleElementReferenceException.class).ignoring(NoSuchElementException.class);
                    browser.get(dashboard.url());
                    try {
                        wait.until(d -> "agent-1".equals(text(d, By.id("leader")))
                                && !d.findElements(By.cssSelector("#snapshot li[data-state='done']")).isEmpty());
                    } catch (org.openqa.selenium.TimeoutException e) {
                        throw new AssertionError("the page shows:\n" + text(browser, By.tagName("body")) + "\nthe agent logged:\n"
                                + agent.log(), e);
                    }
                    assertThat(text(browser, By.cssSelector("#snapshot li[data-state='done']"))).contains(hostileTable);
                    JavascriptExecutor js = (JavascriptExecutor) browser;
                    assertThat(js.executeScript("return typeof window.__pwned")).as("no handler in the name ran").isEqualTo("undefined");
                    assertThat(((Number) js.executeScript("return document.querySelectorAll('img').length")).intValue())
                            .as("no element was made from the name").isZero();
                    System.out.printf("DashboardBrowserIT: table %s shown as text; agent id %s refused by check%n",
                            hostileTable, hostileId);
                } finally {
                    browser.quit();
                    service.stop();
                }
            }
        } finally {
            deleteRecursively(profile);
            DashboardItSupport.dropSlotAndPublicationOnceReleased(sandbox, configs.slot());
            sandbox.postgres().execute("DROP TABLE " + table);
        }
    }

    private static ChromeOptions options(Path profile) {
        // both paths given: Selenium Manager has nothing to look up or download
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1280,1500", "--user-data-dir=" + profile);
        return options;
    }

    private static String text(WebDriver d, By by) {
        return fresh(() -> d.findElement(by).getText().trim());
    }

    private static int points(WebDriver d, String chart) {
        String n = fresh(() -> d.findElement(By.id(chart)).getAttribute("data-points"));
        return n == null ? 0 : Integer.parseInt(n);
    }

    /** The page redraws its cards every second: an element found just before a redraw goes stale; look again. */
    private static <T> T fresh(java.util.function.Supplier<T> read) {
        for (int attempt = 1; ; attempt++) {
            try {
                return read.get();
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                if (attempt == 20) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private Connection connect() {
        try {
            return sandbox.postgres().connect();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
