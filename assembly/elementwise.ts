// placeholder: filled in by the elementwise kernel work
export function elementwisePlaceholder(): void {}
