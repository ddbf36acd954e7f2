// Chart.js (tree-shaken: only the bar and line charts the portal draws).
import { useEffect, useRef } from "preact/hooks";
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip,
  type ChartConfiguration,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Filler, Legend, Tooltip);

export function ChartView(props: { config: ChartConfiguration; height?: number; testid?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    if (chart.current) {
      chart.current.data = props.config.data;
      chart.current.update("none");
    } else chart.current = new Chart(canvas.current, { ...props.config, options: { animation: false, maintainAspectRatio: false, ...props.config.options } });
  }, [props.config]);
  useEffect(() => () => chart.current?.destroy(), []);
  return (
    <div class="chart" style={{ height: `${props.height ?? 240}px` }} data-testid={props.testid}>
      <canvas ref={canvas} />
    </div>
  );
}
