// placeholder: filled in by the reduce kernel work
export function reducePlaceholder(): void {}
