// The 2D map: a north-up canvas of the map frame (x east, y north, metres)
// with the lidar coverage, walkways and crossings, building footprints,
// POIs, the route and the pose marker; scale bar and north arrow. Wheel
// zooms about the cursor, drag pans.

// The pose marker's colour is used nowhere else on the page's 2D map, so a
// screenshot test can find the marker by colour alone.
export const POSE_COLOUR = '#ff00ff';
export const ROUTE_COLOUR = '#1a73e8';

const COLOURS = {
  background: '#f4f2ec',
  coverage: '#e3e8dc',
  sidewalk: '#cfc8bb',
  crossingLight: '#ffffff',
  crossingDark: '#8c8c8c',
  footprintFill: '#d5cfc3',
  footprintStroke: '#8b8274',
  poi: '#f08c00',
  label: '#2b2b2b',
  halo: 'rgba(255, 255, 255, 0.9)',
  routeCasing: '#ffffff',
  poseRing: '#ffffff',
  poseNeedle: '#6a0070',
  poseCone: 'rgba(255, 0, 255, 0.18)',
  prior: '#2e7d32',
  ink: '#333333',
};

const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "DejaVu Sans", system-ui, sans-serif';

export class MapView2D {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.data = null;
    this.pose = null;
    this.route = null;
    this.showOverview = false;
    // View: the map point at the canvas centre and metres per CSS pixel.
    this.centre = [0, 0];
    this.mPerPx = 0.25;
    this.cssSize = [1, 1];
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.attachControls();
    this.resize();
  }

  setData(data) {
    this.data = data;
    this.draw();
  }
  setPose(pose) {
    this.pose = pose;
    this.draw();
  }
  setRoute(route) {
    this.route = route;
    this.draw();
  }
  // The GPS prior: { xM, yM, accuracyM } or null.
  setPrior(prior) {
    this.prior = prior;
    this.draw();
  }
  setShowOverview(show) {
    this.showOverview = show;
    this.draw();
  }

  // Map frame metres -> canvas CSS pixels.
  toPx(x, y) {
    return [
      (x - this.centre[0]) / this.mPerPx + this.cssSize[0] / 2,
      this.cssSize[1] / 2 - (y - this.centre[1]) / this.mPerPx,
    ];
  }
  toMap(px, py) {
    return [
      (px - this.cssSize[0] / 2) * this.mPerPx + this.centre[0],
      (this.cssSize[1] / 2 - py) * this.mPerPx + this.centre[1],
    ];
  }
  // Map frame metres -> viewport CSS pixels (what a screenshot at device
  // scale 1 shows).
  mapToPagePx(x, y) {
    const rect = this.canvas.getBoundingClientRect();
    const [px, py] = this.toPx(x, y);
    return { x: rect.left + px, y: rect.top + py };
  }

  // The extent of everything drawn: footprints, walkways, coverage, POIs,
  // else the map's bounding box.
  extent() {
    const box = [Infinity, Infinity, -Infinity, -Infinity];
    const add = ([x, y]) => {
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x);
      box[3] = Math.max(box[3], y);
    };
    const layers = this.data?.layers;
    if (layers) {
      for (const f of layers.footprints) f.rings[0].forEach(add);
      for (const l of [...layers.sidewalks, ...layers.crossings]) l.points.forEach(add);
      for (const p of layers.coverage) p[0].forEach(add);
      for (const p of layers.pois) add(p.position);
    }
    if (!Number.isFinite(box[0])) {
      const info = this.data?.mapInfo;
      add([info?.bboxMinM?.x ?? -50, info?.bboxMinM?.y ?? -50]);
      add([info?.bboxMaxM?.x ?? 50, info?.bboxMaxM?.y ?? 50]);
    }
    return box;
  }

  fit() {
    const [x0, y0, x1, y1] = this.extent();
    const margin = 24;  // CSS px around the content
    const w = Math.max(1, this.cssSize[0] - 2 * margin);
    const h = Math.max(1, this.cssSize[1] - 2 * margin);
    this.centre = [(x0 + x1) / 2, (y0 + y1) / 2];
    this.mPerPx = Math.max((x1 - x0) / w, (y1 - y0) / h, 0.01);
    this.draw();
  }

  resize() {
    const parent = this.canvas.parentElement;
    const width = Math.max(1, parent.clientWidth);
    const height = Math.max(1, parent.clientHeight);
    const firstSize = this.cssSize[0] <= 1;
    this.cssSize = [width, height];
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    if (firstSize && this.data) this.fit();
    else this.draw();
  }

  // `onPick(x_m, y_m)` is called on a double click.
  attachControls() {
    const c = this.canvas;
    c.addEventListener('dblclick', (e) => {
      const rect = c.getBoundingClientRect();
      const [x, y] = this.toMap(e.clientX - rect.left, e.clientY - rect.top);
      this.onPick?.(x, y);
    });
    c.addEventListener('wheel', (e) => {
      e.preventDefault();
      const rect = c.getBoundingClientRect();
      const px = e.clientX - rect.left;
      const py = e.clientY - rect.top;
      const before = this.toMap(px, py);
      this.mPerPx *= Math.exp(e.deltaY * 0.0015);
      this.mPerPx = Math.min(Math.max(this.mPerPx, 0.005), 50);
      const after = this.toMap(px, py);
      this.centre = [this.centre[0] + before[0] - after[0], this.centre[1] + before[1] - after[1]];
      this.draw();
    }, { passive: false });
    let drag = null;
    c.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, centre: [...this.centre] };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.centre = [
        drag.centre[0] - (e.clientX - drag.x) * this.mPerPx,
        drag.centre[1] + (e.clientY - drag.y) * this.mPerPx,
      ];
      this.draw();
    });
    const end = () => {
      drag = null;
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
  }

  // ------------------------------------------------------------ drawing --

  draw() {
    if (this.pendingFrame) return;
    // One draw per animation frame, however many updates arrive.
    this.pendingFrame = requestAnimationFrame(() => {
      this.pendingFrame = 0;
      this.drawNow();
    });
  }

  drawNow() {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = COLOURS.background;
    ctx.fillRect(0, 0, this.cssSize[0], this.cssSize[1]);
    const layers = this.data?.layers;
    if (layers) {
      // The overview is the lidar seen from above: it replaces the coverage tint.
      if (this.showOverview && layers.overview) this.drawOverview(layers.overview);
      else for (const p of layers.coverage) this.fillPolygon(p, COLOURS.coverage, null);
      this.drawWalkways(layers);
      for (const f of layers.footprints) this.fillPolygon(f.rings, COLOURS.footprintFill, COLOURS.footprintStroke);
    }
    if (this.pose) this.drawPoseCone(this.pose);
    // POI names under the route (the route must stay visible), dots over it.
    const destination = this.route?.response?.destinationPoi;
    if (layers) this.drawPoiLabels(layers.pois.filter((p) => p.name !== destination?.name), layers.pois);
    if (this.route) this.drawRoute(this.route.polylineMap);
    if (layers) this.drawPoiDots(layers.pois);
    if (destination?.positionMap) {
      const [px, py] = this.toPx(destination.positionMap.x ?? 0, destination.positionMap.y ?? 0);
      const name = destination.nameEn ? `${destination.name} ${destination.nameEn}` : destination.name;
      // Above-right of the dot, clear of a route arriving along a street.
      this.drawLabel(name, px + 8, py - 15, true);
    }
    if (this.prior) this.drawPrior(this.prior);
    if (this.pose) this.drawPoseMarker(this.pose);
    this.drawScaleBar();
    this.drawNorthArrow();
  }

  drawOverview(o) {
    const [x, y] = this.toPx(o.min_x_m, o.max_y_m);
    const scale = o.metres_per_pixel / this.mPerPx;
    this.ctx.save();
    this.ctx.globalAlpha = 0.8;
    this.ctx.drawImage(o.image, x, y, o.image.width * scale, o.image.height * scale);
    this.ctx.restore();
  }

  tracePolygon(rings) {
    const ctx = this.ctx;
    ctx.beginPath();
    for (const ring of rings) {
      ring.forEach(([x, y], i) => {
        const [px, py] = this.toPx(x, y);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.closePath();
    }
  }

  fillPolygon(rings, fill, stroke) {
    const ctx = this.ctx;
    this.tracePolygon(rings);
    ctx.fillStyle = fill;
    ctx.fill('evenodd');
    if (stroke) {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 1.2;
      ctx.stroke();
    }
  }

  tracePolyline(points) {
    const ctx = this.ctx;
    ctx.beginPath();
    points.forEach(([x, y], i) => {
      const [px, py] = this.toPx(x, y);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
  }

  drawWalkways(layers) {
    const ctx = this.ctx;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const widthPx = (widthM) => Math.min(Math.max(widthM / this.mPerPx, 2), 24);
    for (const line of layers.sidewalks) {
      this.tracePolyline(line.points);
      ctx.strokeStyle = COLOURS.sidewalk;
      ctx.lineWidth = widthPx(line.widthM);
      ctx.stroke();
    }
    // Zebra crossings: light band with dark stripes across it.
    ctx.lineCap = 'butt';
    for (const line of layers.crossings) {
      const w = widthPx(line.widthM);
      this.tracePolyline(line.points);
      ctx.strokeStyle = COLOURS.crossingLight;
      ctx.lineWidth = w;
      ctx.stroke();
      const stripe = Math.max(0.5 / this.mPerPx, 2);  // 0.5 m stripes
      ctx.setLineDash([stripe, stripe]);
      ctx.strokeStyle = COLOURS.crossingDark;
      ctx.lineWidth = w * 0.8;
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  drawRoute(points) {
    if (!points || points.length < 2) return;
    const ctx = this.ctx;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    this.tracePolyline(points);
    ctx.strokeStyle = COLOURS.routeCasing;
    ctx.lineWidth = 9;
    ctx.stroke();
    ctx.strokeStyle = ROUTE_COLOUR;
    ctx.lineWidth = 5;
    ctx.stroke();
    // Destination: a ring at the end.
    const [ex, ey] = this.toPx(...points[points.length - 1]);
    ctx.beginPath();
    ctx.arc(ex, ey, 6, 0, 2 * Math.PI);
    ctx.fillStyle = '#ffffff';
    ctx.fill();
    ctx.lineWidth = 3;
    ctx.strokeStyle = ROUTE_COLOUR;
    ctx.stroke();
  }

  drawLabel(text, px, py, bold = false) {
    const ctx = this.ctx;
    ctx.font = `${bold ? 'bold 13px' : '12px'} ${FONT}`;
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 3;
    ctx.strokeStyle = COLOURS.halo;
    ctx.strokeText(text, px, py);
    ctx.fillStyle = COLOURS.label;
    ctx.fillText(text, px, py);
  }

  static poisByConfidence(pois) {
    return [...pois].sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
  }

  drawPoiDots(pois) {
    const ctx = this.ctx;
    for (const p of pois) {
      const [px, py] = this.toPx(p.position[0], p.position[1]);
      ctx.beginPath();
      ctx.arc(px, py, 5, 0, 2 * Math.PI);
      ctx.fillStyle = COLOURS.poi;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
    }
  }

  // Names where they overlap neither a dot nor a name already placed
  // (higher-confidence POIs first).
  drawPoiLabels(pois, allPois = pois) {
    const ctx = this.ctx;
    ctx.font = `12px ${FONT}`;
    const placed = allPois.map((p) => {
      const [px, py] = this.toPx(p.position[0], p.position[1]);
      return [px - 6, py - 6, px + 6, py + 6];
    });
    for (const p of MapView2D.poisByConfidence(pois)) {
      const [px, py] = this.toPx(p.position[0], p.position[1]);
      const text = p.nameEn ? `${p.name} ${p.nameEn}` : p.name;
      const w = ctx.measureText(text).width;
      // Right of the dot, else left, above, below.
      const candidates = [[px + 8, py], [px - 8 - w, py], [px - w / 2, py - 15], [px - w / 2, py + 15]];
      for (const [x, y] of candidates) {
        const box = [x - 1, y - 8, x + w + 1, y + 8];
        if (placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
        placed.push(box);
        this.drawLabel(text, x, y);
        break;
      }
    }
  }

  // The GPS prior as a dashed circle of its accuracy around a cross.
  drawPrior({ xM, yM, accuracyM }) {
    const ctx = this.ctx;
    const [px, py] = this.toPx(xM, yM);
    ctx.save();
    ctx.strokeStyle = COLOURS.prior;
    ctx.lineWidth = 1.5;
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.arc(px, py, Math.max(accuracyM / this.mPerPx, 4), 0, 2 * Math.PI);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(px - 6, py);
    ctx.lineTo(px + 6, py);
    ctx.moveTo(px, py - 6);
    ctx.lineTo(px, py + 6);
    ctx.stroke();
    ctx.restore();
  }

  // The camera's horizontal field of view as a translucent cone, under the
  // route and labels.
  drawPoseCone(pose) {
    const ctx = this.ctx;
    const [px, py] = this.toPx(pose.centreMap[0], pose.centreMap[1]);
    const angle = MapView2D.canvasAngle(pose.headingDeg);
    const fx = pose.camera?.params?.[0];
    const halfFov = fx && pose.camera.width ? Math.atan(pose.camera.width / 2 / fx) : Math.PI / 5;
    ctx.beginPath();
    ctx.moveTo(px, py);
    ctx.arc(px, py, 60, angle - halfFov, angle + halfFov);
    ctx.closePath();
    ctx.fillStyle = COLOURS.poseCone;
    ctx.fill();
  }

  // A solid disc at the camera centre, on top of everything, and a needle
  // outside the disc along the heading (outside, so the disc's pixels stay
  // symmetric about its centre).
  drawPoseMarker(pose) {
    const ctx = this.ctx;
    const [px, py] = this.toPx(pose.centreMap[0], pose.centreMap[1]);
    const r = 8;
    ctx.beginPath();
    ctx.arc(px, py, r + 2.5, 0, 2 * Math.PI);
    ctx.fillStyle = COLOURS.poseRing;
    ctx.fill();
    ctx.beginPath();
    ctx.arc(px, py, r, 0, 2 * Math.PI);
    ctx.fillStyle = POSE_COLOUR;
    ctx.fill();

    const angle = MapView2D.canvasAngle(pose.headingDeg);
    const dx = Math.cos(angle);
    const dy = Math.sin(angle);
    const tip = r + 16;
    const base = r + 4;
    ctx.beginPath();
    ctx.moveTo(px + dx * tip, py + dy * tip);
    ctx.lineTo(px + dx * base - dy * 6, py + dy * base + dx * 6);
    ctx.lineTo(px + dx * base + dy * 6, py + dy * base - dx * 6);
    ctx.closePath();
    ctx.fillStyle = COLOURS.poseNeedle;
    ctx.fill();
  }

  // Canvas angle (x right, y down) of a compass heading (0 = north = up,
  // clockwise).
  static canvasAngle(headingDeg) {
    return (headingDeg * Math.PI) / 180 - Math.PI / 2;
  }

  drawScaleBar() {
    const ctx = this.ctx;
    // The largest 1-2-5 length under 120 px.
    const maxM = 120 * this.mPerPx;
    const pow = 10 ** Math.floor(Math.log10(maxM));
    const lengthM = [5, 2, 1].map((k) => k * pow).find((v) => v <= maxM) ?? pow;
    const lengthPx = lengthM / this.mPerPx;
    const x = 16;
    const y = this.cssSize[1] - 18;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.75)';
    ctx.fillRect(x - 6, y - 20, lengthPx + 12, 28);
    ctx.strokeStyle = COLOURS.ink;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, y - 6);
    ctx.lineTo(x, y);
    ctx.lineTo(x + lengthPx, y);
    ctx.lineTo(x + lengthPx, y - 6);
    ctx.stroke();
    ctx.font = `12px ${FONT}`;
    ctx.fillStyle = COLOURS.ink;
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(lengthM >= 1000 ? `${lengthM / 1000} km` : `${lengthM} m`, x + 2, y - 8);
  }

  drawNorthArrow() {
    const ctx = this.ctx;
    const x = this.cssSize[0] - 28;
    const y = 20;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.75)';
    ctx.beginPath();
    ctx.arc(x, y + 14, 17, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = COLOURS.ink;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 7, y + 18);
    ctx.lineTo(x, y + 13);
    ctx.lineTo(x - 7, y + 18);
    ctx.closePath();
    ctx.fill();
    ctx.font = `bold 11px ${FONT}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText('N', x, y + 19);
    ctx.textAlign = 'start';
  }
}
