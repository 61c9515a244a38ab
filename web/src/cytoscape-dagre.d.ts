declare module 'cytoscape-dagre' {
  const ext: cytoscape.Ext;
  export default ext;
}
