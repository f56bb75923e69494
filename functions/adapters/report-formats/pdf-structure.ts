/**
 * A node's structure type in the tagged PDF, or its options (alternative text, a header cell's
 * scope), as props to spread in: react-pdf's prop types do not declare the patch's prop.
 */
type StructureType = 'H1' | 'H2' | 'H3' | 'P' | 'L' | 'LI' | 'Lbl' | 'LBody' | 'TOC' | 'TOCI' | 'Table' | 'TR' | 'TH' | 'TD' | 'Figure' | 'Artifact';
export const tagged = (structure: StructureType | { type: StructureType; alt?: string; scope?: 'Column' | 'Row' }): object => ({ structure });
