// The flow designer's canvas: @xyflow/react (React Flow, through preact/compat) draws the Studio
// definition as a graph. Each state is a node at its properties.offset, each transition an edge from
// the node's port for that event, labelled with the event. Dragging a node moves its offset;
// dragging from a port to a node sets that transition's `next`; a widget dragged (or clicked) from
// the palette is added; Delete removes the selected widget or transition. The definition stays the
// one source of truth: the canvas edits it through `onChange`. flows.tsx loads this module on demand
// (its own chunk), so the rest of the portal does not carry React Flow.
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  Background, Controls, Handle, Position, ReactFlow, ReactFlowProvider, applyNodeChanges, useReactFlow,
  type Connection, type Edge, type EdgeChange, type Node, type NodeChange, type NodeProps,
} from "@xyflow/react";
import { WIDGETS, kindOf, newState, removeState, setNext, updateState, type Definition, type State } from "./flow-widgets";

type WidgetData = { state: State; warnings: string[]; initial: boolean };
type WidgetNode = Node<WidgetData, "widget">;

function WidgetBox({ data, selected }: NodeProps<WidgetNode>) {
  const { state, warnings } = data;
  const label = state.type === "trigger" ? "Trigger" : kindOf(state.type)?.label ?? state.type;
  const n = state.transitions.length;
  return (
    <div class={`flow-node ${selected ? "selected" : ""} ${warnings.length ? "warned" : ""}`} data-testid={`node-${state.name}`} title={warnings.join("\n")} style={{ minWidth: `${Math.max(190, n * 105)}px` }}>
      {state.type !== "trigger" && <Handle type="target" position={Position.Top} id="in" data-testid={`in-${state.name}`} />}
      <div class="flow-node-type">{label}</div>
      <div class="flow-node-name">{state.name}</div>
      {warnings.length > 0 && <div class="flow-node-warn">⚠ {warnings.length}</div>}
      <div class="flow-ports">
        {state.transitions.map((t, i) => (
          <span class="flow-port-label" style={{ left: `${((i + 0.5) / n) * 100}%` }}>{t.event}</span>
        ))}
      </div>
      {state.transitions.map((t, i) => (
        <Handle
          type="source"
          position={Position.Bottom}
          id={`t${i}`}
          key={`t${i}`}
          style={{ left: `${((i + 0.5) / n) * 100}%` }}
          data-testid={`port-${state.name}-${t.event}`}
          title={t.event}
        />
      ))}
    </div>
  );
}

const nodeTypes = { widget: WidgetBox };

function toNodes(def: Definition, warnings: Record<string, string[]>, prev: WidgetNode[]): WidgetNode[] {
  const old = new Map(prev.map((n) => [n.id, n]));
  return def.states.map((s) => {
    const o = old.get(s.name);
    return {
      ...(o ?? {}),
      id: s.name,
      type: "widget",
      position: { x: s.properties.offset?.x ?? 0, y: s.properties.offset?.y ?? 0 },
      data: { state: s, warnings: warnings[s.name] ?? [], initial: def.initial_state === s.name },
      deletable: s.type !== "trigger",
    };
  });
}

function toEdges(def: Definition): Edge[] {
  const names = new Set(def.states.map((s) => s.name));
  return def.states.flatMap((s) =>
    s.transitions.flatMap((t, i) =>
      t.next && names.has(t.next)
        ? [{ id: `${s.name}:t${i}`, source: s.name, sourceHandle: `t${i}`, target: t.next, targetHandle: "in", label: t.event, data: { index: i } }]
        : [],
    ),
  );
}

type Props = {
  definition: Definition;
  warnings: Record<string, string[]>;
  selected: string | null;
  onChange: (d: Definition) => void;
  onSelect: (name: string | null) => void;
};

function Canvas(props: Props) {
  const { definition: def, onChange } = props;
  const flow = useReactFlow();
  const [nodes, setNodes] = useState<WidgetNode[]>(() => toNodes(def, props.warnings, []));
  useEffect(() => setNodes((prev) => toNodes(def, props.warnings, prev)), [def, props.warnings]);
  const edges = useMemo(() => toEdges(def), [def]);

  const onNodesChange = (changes: NodeChange<WidgetNode>[]) => {
    setNodes((ns) => applyNodeChanges(changes, ns));
    const removed = changes.filter((c) => c.type === "remove").map((c) => c.id);
    if (removed.length) {
      onChange(removed.reduce((d, name) => removeState(d, name), def));
      props.onSelect(null);
    }
    for (const c of changes) if (c.type === "select" && c.selected) props.onSelect(c.id);
  };
  const onEdgesChange = (changes: EdgeChange<Edge>[]) => {
    let d = def;
    for (const c of changes) {
      if (c.type !== "remove") continue;
      const e = edges.find((x) => x.id === c.id);
      if (e) d = setNext(d, e.source, (e.data as { index: number }).index, null);
    }
    if (d !== def) onChange(d);
  };
  const onConnect = (c: Connection) => {
    if (!c.source || !c.target || !c.sourceHandle || c.source === c.target) return;
    onChange(setNext(def, c.source, Number(c.sourceHandle.slice(1)), c.target));
  };
  const onDragStop = (_e: unknown, _n: WidgetNode, moved: WidgetNode[]) => {
    let d = def;
    for (const n of moved)
      d = updateState(d, n.id, (s) => ({ ...s, properties: { ...s.properties, offset: { x: Math.round(n.position.x), y: Math.round(n.position.y) } } }));
    onChange(d);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const kind = kindOf(e.dataTransfer?.getData("application/x-centrex-widget") ?? "");
    if (!kind) return;
    const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    const s = newState(def, kind, at);
    onChange({ ...def, states: [...def.states, s] });
    props.onSelect(s.name);
  };

  return (
    <div class="flow-canvas" data-testid="flow-canvas" onDragOver={(e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = "move"; }} onDrop={onDrop}>
      <ReactFlow<WidgetNode, Edge>
        nodes={nodes.map((n) => ({ ...n, selected: n.id === props.selected }))}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onNodeDragStop={onDragStop}
        onPaneClick={() => props.onSelect(null)}
        deleteKeyCode={["Delete", "Backspace"]}
        fitView
        fitViewOptions={{ maxZoom: 1, padding: 0.2 }}
        minZoom={0.2}
        defaultEdgeOptions={{ type: "smoothstep" }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

/** The palette: drag a widget onto the canvas, or click it to add it below the others. */
export function Palette(props: { definition: Definition; onAdd: (d: Definition, name: string) => void }) {
  const add = (type: string) => {
    const kind = kindOf(type)!;
    const lowest = Math.max(0, ...props.definition.states.map((s) => s.properties.offset?.y ?? 0));
    const s = newState(props.definition, kind, { x: 0, y: lowest + 180 });
    props.onAdd({ ...props.definition, states: [...props.definition.states, s] }, s.name);
  };
  return (
    <div class="flow-palette" data-testid="flow-palette">
      {WIDGETS.map((w) => (
        <button
          type="button"
          class="ghost small palette-item"
          draggable
          data-testid={`palette-${w.type}`}
          onDragStart={(e) => {
            e.dataTransfer?.setData("application/x-centrex-widget", w.type);
            if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
          }}
          onClick={() => add(w.type)}
          title={`${w.type}: drag onto the canvas, or click to add`}
        >
          {w.label}
        </button>
      ))}
    </div>
  );
}

export function FlowGraph(props: Props) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}
