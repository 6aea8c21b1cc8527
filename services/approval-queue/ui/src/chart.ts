import { clear, h, s } from './dom';

export interface Bar {
  label: string;
  value: number;
  /** How the value reads on the chart and to a screen reader. */
  valueText: string;
}

export interface ChartSpec {
  kind: 'columns' | 'rows';
  /** Names the chart for assistive technology; the caption on the page says the same. */
  title: string;
  bars: Bar[];
  empty: string;
  tone?: 'neutral' | 'danger';
}

/**
 * Draws a small bar chart as inline SVG, at the container's own width (so its text stays legible
 * on a phone instead of being scaled down), and redraws when that width changes. The bars are
 * also listed as text for screen readers. Returns a function that stops the redrawing.
 */
export function mountChart(container: HTMLElement, spec: ChartSpec): () => void {
  let lastWidth = -1;
  const draw = () => {
    const width = Math.max(260, Math.floor(container.clientWidth));
    if (width === lastWidth) return;
    lastWidth = width;
    clear(container);
    if (spec.bars.length === 0) {
      container.append(h('p', { class: 'chart-empty' }, spec.empty));
      return;
    }
    container.append(spec.kind === 'columns' ? columns(spec, width) : rows(spec, width), textEquivalent(spec));
  };
  draw();
  if (!('ResizeObserver' in window)) return () => undefined;
  const observer = new ResizeObserver(draw);
  observer.observe(container);
  return () => observer.disconnect();
}

/** The chart's own element: an image named by its title, coloured by its tone. */
function chartRoot(spec: ChartSpec, width: number, height: number): SVGSVGElement {
  return s('svg', {
    width,
    height,
    role: 'img',
    'aria-label': spec.title,
    class: `chart chart-${spec.tone ?? 'neutral'}`,
  });
}

function textEquivalent(spec: ChartSpec): HTMLElement {
  return h(
    'ul',
    { class: 'sr-only' },
    spec.bars.map((b) => h('li', {}, `${b.label}: ${b.valueText}`)),
  );
}

function columns(spec: ChartSpec, width: number): SVGSVGElement {
  const height = 200;
  const pad = { top: 24, right: 8, bottom: 36, left: 8 };
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(...spec.bars.map((b) => b.value), 1);
  const slot = (width - pad.left - pad.right) / spec.bars.length;
  const barW = Math.min(56, slot * 0.6);
  const svg = chartRoot(spec, width, height);
  svg.append(
    s('line', { x1: pad.left, x2: width - pad.right, y1: pad.top + plotH, y2: pad.top + plotH, class: 'axis' }),
  );
  spec.bars.forEach((b, i) => {
    const barH = b.value > 0 ? Math.max(2, (b.value / max) * plotH) : 0;
    const x = pad.left + slot * i + (slot - barW) / 2;
    const y = pad.top + plotH - barH;
    svg.append(
      s('rect', { x, y, width: barW, height: barH, rx: 3, class: 'bar' }, s('title', {}, `${b.label}: ${b.valueText}`)),
      s(
        'text',
        { x: x + barW / 2, y: y - 6, 'text-anchor': 'middle', class: 'value' },
        b.value > 0 ? b.valueText : '–',
      ),
      s('text', { x: x + barW / 2, y: height - 14, 'text-anchor': 'middle', class: 'label' }, b.label),
    );
  });
  return svg;
}

function rows(spec: ChartSpec, width: number): SVGSVGElement {
  const rowH = 30;
  const labelH = 18;
  const height = spec.bars.length * (rowH + labelH) + 4;
  const valueW = 44;
  const plotW = width - valueW - 4;
  const max = Math.max(...spec.bars.map((b) => b.value), 1);
  const svg = chartRoot(spec, width, height);
  const maxChars = Math.max(12, Math.floor(width / 7.5));
  spec.bars.forEach((b, i) => {
    const top = i * (rowH + labelH);
    const barW = Math.max(3, (b.value / max) * plotW);
    const label = b.label.length > maxChars ? `${b.label.slice(0, maxChars - 1)}…` : b.label;
    svg.append(
      s('text', { x: 0, y: top + 14, class: 'label' }, label, s('title', {}, b.label)),
      s(
        'rect',
        { x: 0, y: top + labelH, width: barW, height: rowH - 10, rx: 3, class: 'bar' },
        s('title', {}, `${b.label}: ${b.valueText}`),
      ),
      s('text', { x: barW + 8, y: top + labelH + 15, class: 'value' }, b.valueText),
    );
  });
  return svg;
}
