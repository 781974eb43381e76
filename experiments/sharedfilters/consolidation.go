package sharedfilters

// Transitions are the layer-to-layer steps of the trunk, 0→1 … 3→4, by their upper layer.
const transitions = 4
