package runbooks

// AcceptsShorthand exposes acceptsShorthand to the external tests.
var AcceptsShorthand = acceptsShorthand
