package io.pgrelay.sandbox.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Horizontal bar charts, drawn with the JDK alone (headless): rows/s per workload and candidate,
 * then the latency workload's p50/p95/p99 to a read_committed consumer per candidate.
 */
final class BenchChart {

    /** One bar. */
    record Bar(String workload, String candidate, double rowsPerSecond) {
    }

    /** One candidate's latency percentiles (µs). */
    record LatencyBars(String candidate, Latency.Percentiles percentiles) {
    }

    private static final int WIDTH = 900;
    private static final int BAR = 26;
    private static final int LABEL = 220;
    private static final Color CEILING = new Color(0x9e, 0x9e, 0x9e);
    private static final Color PGRELAY = new Color(0x1f, 0x6f, 0xb4);
    private static final Color DEBEZIUM = new Color(0xe0, 0x7b, 0x24);

    private BenchChart() {
    }

    static void write(List<Bar> bars, List<LatencyBars> latencies, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> workloads = bars.stream().map(Bar::workload).distinct().toList();
        int latencyHeight = latencies.isEmpty() ? 0 : 60 + latencies.size() * (3 * (BAR + 6) + 16);
        int height = 60 + workloads.size() * 40 + bars.size() * (BAR + 6) + 20 + latencyHeight;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Rows per second draining the backlog, from launch (higher is better)", 20, 30);
        double max = bars.stream().mapToDouble(Bar::rowsPerSecond).max().orElse(1);
        int plot = WIDTH - LABEL - 120;
        int y = 60;
        for (String workload : workloads) {
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString(workload, 20, y + 16);
            y += 30;
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            for (Bar bar : bars) {
                if (!bar.workload().equals(workload)) {
                    continue;
                }
                int w = (int) Math.round(plot * bar.rowsPerSecond() / max);
                g.setColor(color(bar.candidate()));
                g.fillRect(LABEL, y, w, BAR);
                g.setColor(Color.BLACK);
                g.drawString(bar.candidate(), 30, y + BAR - 8);
                g.drawString(String.format(Locale.ROOT, "%,.0f", bar.rowsPerSecond()), LABEL + w + 8, y + BAR - 8);
                y += BAR + 6;
            }
            y += 10;
        }
        if (!latencies.isEmpty()) {
            y = drawLatencies(g, latencies, y + 20);
        }
        g.setColor(Color.LIGHT_GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawLine(LABEL, 50, LABEL, height - 10);
        g.dispose();
        ImageIO.write(image, "png", png.toFile());
    }

    private static int drawLatencies(Graphics2D g, List<LatencyBars> latencies, int y) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Steady load: ms from PostgreSQL commit to a read_committed consumer (lower is better)", 20, y);
        y += 20;
        double max = latencies.stream().mapToLong(l -> l.percentiles().p99()).max().orElse(1);
        int plot = WIDTH - LABEL - 120;
        for (LatencyBars l : latencies) {
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString(l.candidate(), 20, y + 12);
            y += 16;
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            long[] values = {l.percentiles().p50(), l.percentiles().p95(), l.percentiles().p99()};
            String[] names = {"p50", "p95", "p99"};
            for (int i = 0; i < values.length; i++) {
                int w = (int) Math.round(plot * values[i] / max);
                g.setColor(color(l.candidate()));
                g.fillRect(LABEL, y, w, BAR);
                g.setColor(Color.BLACK);
                g.drawString(names[i], 30, y + BAR - 8);
                g.drawString(String.format(Locale.ROOT, "%.1f ms", values[i] / 1e3), LABEL + w + 8, y + BAR - 8);
                y += BAR + 6;
            }
        }
        return y;
    }

    private static Color color(String candidate) {
        return candidate.equals("pgrelay") ? PGRELAY : candidate.startsWith("Debezium") ? DEBEZIUM : CEILING;
    }
}
