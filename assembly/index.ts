// Entry point of the kernel module: re-exports every kernel family.
// Every export takes byte offsets into the imported memory and element counts;
// no kernel allocates. TypeScript owns all memory above heapBase().
export { heapBase } from './util';
export * from './gemm';
export * from './gemmsmall';
export * from './elementwise';
export * from './reduce';
export * from './optim';
export * from './gather';
export * from './lstm';
export * from './im2col';
export * from './pool';
export * from './dropout';
export * from './convdirect';
