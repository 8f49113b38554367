// The 3D view: the map's simplified white model (GLB) on a ground plane with
// the walkways, POIs, the localized camera as a frustum textured with the
// photo, and the route as a tube. The scene frame is the GLB's glTF frame:
// x = east, y = up, z = -north (scene = sceneFromMap(map)).

import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const sceneFromMap = ([x, y, z]) => new THREE.Vector3(x, z, -y);

const POSE_COLOUR = 0xff00ff;
const ROUTE_COLOUR = 0x1a73e8;

export class View3D {
  constructor(container) {
    this.container = container;
    const probe = document.createElement('canvas');
    if (!(probe.getContext('webgl2') || probe.getContext('webgl'))) throw new Error('this browser has no WebGL');
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.renderer.shadowMap.enabled = true;
    container.append(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0xe9eef3);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.5, 5000);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.maxPolarAngle = Math.PI * 0.49;  // stay above the ground
    this.controls.addEventListener('change', () => this.render());

    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8d8a80, 1.6));
    this.sun = new THREE.DirectionalLight(0xffffff, 1.8);
    this.sun.castShadow = true;
    this.sun.shadow.mapSize.set(1024, 1024);
    this.scene.add(this.sun, this.sun.target);

    this.mapGroup = new THREE.Group();   // ground, walkways, buildings, POIs
    this.poseGroup = new THREE.Group();
    this.routeGroup = new THREE.Group();
    this.scene.add(this.mapGroup, this.poseGroup, this.routeGroup);
    this.loader = new GLTFLoader();
    this.textureLoader = new THREE.TextureLoader();

    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
    const tick = () => {
      // Damping keeps moving after the pointer stops; render only then.
      if (this.controls.update()) this.render();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  resize() {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.render();
  }

  render() {
    this.renderer.render(this.scene, this.camera);
  }

  static disposeGroup(group) {
    group.traverse((o) => {
      o.geometry?.dispose();
      for (const m of [o.material].flat()) {
        m?.map?.dispose();
        m?.dispose();
      }
    });
    group.clear();
  }

  setMap({ mapInfo, layers, glbUrl }) {
    View3D.disposeGroup(this.mapGroup);
    const min = mapInfo.bboxMinM ?? { x: -50, y: -50, z: 0 };
    const max = mapInfo.bboxMaxM ?? { x: 50, y: 50, z: 20 };
    const centre = [(min.x + max.x) / 2, (min.y + max.y) / 2, 0];
    const size = Math.max(max.x - min.x, max.y - min.y, 20);

    const ground = new THREE.Mesh(
      new THREE.PlaneGeometry(size * 3, size * 3),
      new THREE.MeshStandardMaterial({ color: 0xd4d2ca, roughness: 1 }),
    );
    ground.rotation.x = -Math.PI / 2;
    ground.position.copy(sceneFromMap(centre));
    ground.receiveShadow = true;
    this.mapGroup.add(ground);

    // Walkways as flat ribbons of their width, a little above the ground.
    const ribbons = (list, colour, lift) => {
      const positions = [];
      for (const l of list) {
        const half = (l.widthM || 2) / 2;
        for (let i = 1; i < l.points.length; ++i) {
          const [a, b] = [l.points[i - 1], l.points[i]];
          const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
          if (len < 1e-6) continue;
          const nx = (-(b[1] - a[1]) / len) * half;
          const ny = ((b[0] - a[0]) / len) * half;
          const q = [[a[0] + nx, a[1] + ny], [a[0] - nx, a[1] - ny], [b[0] - nx, b[1] - ny], [b[0] + nx, b[1] + ny]]
            .map(([x, y]) => sceneFromMap([x, y, lift]));
          for (const k of [0, 1, 2, 0, 2, 3]) positions.push(q[k].x, q[k].y, q[k].z);
        }
      }
      if (positions.length === 0) return;
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
      geometry.computeVertexNormals();
      const material = new THREE.MeshStandardMaterial({ color: colour, roughness: 1, side: THREE.DoubleSide });
      const mesh = new THREE.Mesh(geometry, material);
      mesh.receiveShadow = true;
      this.mapGroup.add(mesh);
    };
    ribbons(layers.sidewalks, 0xb9b2a4, 0.03);
    ribbons(layers.crossings, 0xf4f4f0, 0.04);

    for (const p of layers.pois) {
      const pin = new THREE.Mesh(
        new THREE.SphereGeometry(0.6, 16, 12),
        new THREE.MeshStandardMaterial({ color: 0xf08c00, emissive: 0x5a3000 }),
      );
      pin.position.copy(sceneFromMap(p.position));
      this.mapGroup.add(pin);
    }

    this.loader.load(
      glbUrl,
      (gltf) => {
        gltf.scene.traverse((o) => {
          if (o.isMesh) {
            o.castShadow = true;
            o.receiveShadow = true;
          }
        });
        this.mapGroup.add(gltf.scene);
        this.render();
      },
      undefined,
      () => {
        // No white model: the ground and walkways still show the map.
      },
    );

    // Sun from the south-east, high; shadow box around the map.
    const target = sceneFromMap(centre);
    this.sun.target.position.copy(target);
    this.sun.position.copy(target).add(new THREE.Vector3(size * 0.6, size * 1.2, size * 0.8));
    const s = this.sun.shadow.camera;
    s.left = s.bottom = -size;
    s.right = s.top = size;
    s.far = size * 4;
    s.updateProjectionMatrix();

    // Look at the map from the south-south-east, 45° down, from where the
    // map's width fits the narrower field of view.
    const vFov = (this.camera.fov * Math.PI) / 180;
    const hFov = 2 * Math.atan(Math.tan(vFov / 2) * this.camera.aspect);
    const distance = (size * 0.55) / Math.tan(Math.min(vFov, hFov) / 2);
    const position = target.clone().add(new THREE.Vector3(0.3, 1, 0.9).setLength(distance));
    this.overview = { target: target.clone(), position };
    this.controls.target.copy(this.overview.target);
    this.camera.position.copy(this.overview.position);
    this.camera.far = size * 20;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.render();
  }

  // The camera as a frustum: apex at the centre, the image plane `depth`
  // metres along the optical axis, textured with the photo.
  setPose(pose) {
    View3D.disposeGroup(this.poseGroup);
    if (!pose) {
      // Back to the whole map.
      if (this.overview) {
        this.controls.target.copy(this.overview.target);
        this.camera.position.copy(this.overview.position);
        this.controls.update();
      }
      this.render();
      return;
    }
    const { width, height, params } = pose.camera;
    const [fx, fy, cx, cy] = params;
    const depth = 5;
    const c = pose.centreMap;
    const corner = (u, v) => {
      const ray = pose.worldFromCam([((u - cx) / fx) * depth, ((v - cy) / fy) * depth, depth]);
      return sceneFromMap([c[0] + ray[0], c[1] + ray[1], c[2] + ray[2]]);
    };
    const apex = sceneFromMap(c);
    // Image corners in the order top-left, top-right, bottom-right, bottom-left.
    const [u1, v1] = [width - 0.5, height - 0.5];
    const k = [corner(-0.5, -0.5), corner(u1, -0.5), corner(u1, v1), corner(-0.5, v1)];
    const edges = [];
    for (let i = 0; i < 4; ++i) edges.push(apex, k[i], k[i], k[(i + 1) % 4]);
    this.poseGroup.add(new THREE.LineSegments(
      new THREE.BufferGeometry().setFromPoints(edges),
      new THREE.LineBasicMaterial({ color: POSE_COLOUR }),
    ));
    const dot = new THREE.Mesh(
      new THREE.SphereGeometry(0.35, 16, 12),
      new THREE.MeshBasicMaterial({ color: POSE_COLOUR }),
    );
    dot.position.copy(apex);
    this.poseGroup.add(dot);

    // The photo on the image plane (two triangles, uv from the corners).
    const plane = new THREE.BufferGeometry();
    plane.setAttribute('position', new THREE.Float32BufferAttribute(k.flatMap((p) => [p.x, p.y, p.z]), 3));
    plane.setAttribute('uv', new THREE.Float32BufferAttribute([0, 1, 1, 1, 1, 0, 0, 0], 2));
    plane.setIndex([0, 3, 1, 1, 3, 2]);
    const material = new THREE.MeshBasicMaterial({
      color: 0xffffff, side: THREE.DoubleSide, transparent: true, opacity: 0.85,
    });
    if (pose.photoUrl) {
      material.map = this.textureLoader.load(pose.photoUrl, () => this.render());
      material.map.colorSpace = THREE.SRGBColorSpace;
    }
    this.poseGroup.add(new THREE.Mesh(plane, material));

    // Look over the camera's shoulder: from behind and above it, at a point
    // ahead of it on its heading.
    const f = new THREE.Vector3(pose.forward[0], 0, -pose.forward[1]);
    if (f.lengthSq() < 1e-6) f.set(0, 0, -1);
    f.normalize();
    // Steeply (~60° down), so that buildings behind it rarely hide it.
    this.controls.target.copy(apex).addScaledVector(f, 12).setY(0);
    this.camera.position.copy(apex).addScaledVector(f, -24).add(new THREE.Vector3(0, 60, 0));
    this.controls.update();
    this.render();
  }

  setRoute(route) {
    View3D.disposeGroup(this.routeGroup);
    const points = route?.arPolylineMap?.length >= 2 ? route.arPolylineMap : route?.polylineMap;
    if (points && points.length >= 2) {
      const path = new THREE.CurvePath();
      for (let i = 1; i < points.length; ++i) {
        const a = sceneFromMap(points[i - 1]);
        const b = sceneFromMap(points[i]);
        const lift = new THREE.Vector3(0, 0.3, 0);  // clear of the ground and walkways
        if (a.distanceTo(b) > 1e-3) path.add(new THREE.LineCurve3(a.add(lift), b.add(lift)));
      }
      if (path.curves.length > 0) {
        const tube = new THREE.TubeGeometry(path, Math.max(8, path.curves.length * 2), 0.35, 8, false);
        const material = new THREE.MeshStandardMaterial({ color: ROUTE_COLOUR, emissive: 0x0a2f66 });
        this.routeGroup.add(new THREE.Mesh(tube, material));
      }
    }
    this.render();
  }
}
