// tsx's loader entry registers its ESM and CommonJS hooks as a side effect and exports nothing.
declare module 'tsx';
