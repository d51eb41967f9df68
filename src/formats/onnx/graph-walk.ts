import type { AttributeProto, GraphProto, NodeProto, TensorProto } from "onnx-buf";

/** A graph and where it sits: the main graph, or a subgraph held in a node attribute (If, Loop, Scan…). */
export interface GraphScope {
  graph: GraphProto;
  /** "" for the main graph; e.g. "If_25/then_branch" or "Loop_3/body" for subgraphs; "Foo/graphs[1]" for GRAPHS attributes. */
  path: string;
  /** 0 for the main graph. */
  depth: number;
  /** The node whose attribute holds this graph; undefined for the main graph. */
  owner?: { node: NodeProto; nodeIndex: number; attribute: string; scope: GraphScope };
}

export interface NodeVisit {
  node: NodeProto;
  /** Position in its graph's node list. */
  index: number;
  scope: GraphScope;
  /** Scope path plus the node's label, e.g. "If_25/then_branch/Conv_3". */
  path: string;
}

export interface SubgraphRef {
  attribute: string;
  graph: GraphProto;
  /** Position within a GRAPHS attribute; undefined for a single GRAPH attribute. */
  index?: number;
}

export interface TensorVisit {
  tensor: TensorProto;
  /** initializer, sparse initializer part, or a tensor inside a node attribute (Constant's `value`, TENSOR(S) attributes). */
  kind: "initializer" | "sparse-initializer" | "attribute";
  scope: GraphScope;
  node?: NodeProto;
  attribute?: string;
}

/** A node's name, or "OpType#index" when the exporter left it unnamed. */
export function nodeLabel(node: NodeProto, index: number): string {
  return node.name !== "" ? node.name : `${node.opType}#${index}`;
}

function joinPath(scopePath: string, part: string): string {
  return scopePath === "" ? part : `${scopePath}/${part}`;
}

/** Graphs held by a node's attributes (any GRAPH or GRAPHS attribute, whatever the op). */
export function subgraphsOf(node: NodeProto): SubgraphRef[] {
  const refs: SubgraphRef[] = [];
  for (const attribute of node.attribute) {
    if (attribute.g) refs.push({ attribute: attribute.name, graph: attribute.g });
    attribute.graphs.forEach((graph, index) => refs.push({ attribute: attribute.name, graph, index }));
  }
  return refs;
}

function childScope(parent: GraphScope, node: NodeProto, nodeIndex: number, ref: SubgraphRef): GraphScope {
  const part = ref.index === undefined ? ref.attribute : `${ref.attribute}[${ref.index}]`;
  return {
    graph: ref.graph,
    path: joinPath(joinPath(parent.path, nodeLabel(node, nodeIndex)), part),
    depth: parent.depth + 1,
    owner: { node, nodeIndex, attribute: ref.attribute, scope: parent },
  };
}

/** The main graph's scope. */
export function rootScope(graph: GraphProto): GraphScope {
  return { graph, path: "", depth: 0 };
}

/** Subgraph scopes directly held by one node of `scope`. */
export function childScopes(scope: GraphScope, node: NodeProto, nodeIndex: number): GraphScope[] {
  return subgraphsOf(node).map((ref) => childScope(scope, node, nodeIndex, ref));
}

/** Every graph, main first, then each subgraph in pre-order. */
export function* walkGraphs(root: GraphProto | GraphScope): Generator<GraphScope> {
  const scope = "graph" in root ? root : rootScope(root);
  yield scope;
  for (const [index, node] of scope.graph.node.entries()) {
    for (const child of childScopes(scope, node, index)) yield* walkGraphs(child);
  }
}

/** Every node of every graph, each node followed by the nodes of its subgraphs. */
export function* walkNodes(root: GraphProto | GraphScope): Generator<NodeVisit> {
  const scope = "graph" in root ? root : rootScope(root);
  for (const [index, node] of scope.graph.node.entries()) {
    yield { node, index, scope, path: joinPath(scope.path, nodeLabel(node, index)) };
    for (const child of childScopes(scope, node, index)) yield* walkNodes(child);
  }
}

function* attributeTensors(attribute: AttributeProto): Generator<TensorProto> {
  if (attribute.t) yield attribute.t;
  yield* attribute.tensors;
  for (const sparse of [attribute.sparseTensor, ...attribute.sparseTensors]) {
    if (sparse?.values) yield sparse.values;
    if (sparse?.indices) yield sparse.indices;
  }
}

/** Every TensorProto stored in the model's graphs: initializers, sparse initializers and attribute tensors. */
export function* walkTensors(root: GraphProto | GraphScope): Generator<TensorVisit> {
  for (const scope of walkGraphs(root)) {
    for (const tensor of scope.graph.initializer) yield { tensor, kind: "initializer", scope };
    for (const sparse of scope.graph.sparseInitializer) {
      if (sparse.values) yield { tensor: sparse.values, kind: "sparse-initializer", scope };
      if (sparse.indices) yield { tensor: sparse.indices, kind: "sparse-initializer", scope };
    }
    for (const node of scope.graph.node) {
      for (const attribute of node.attribute) {
        for (const tensor of attributeTensors(attribute)) {
          yield { tensor, kind: "attribute", scope, node, attribute: attribute.name };
        }
      }
    }
  }
}
