// 50 MiB of read-only data that makes code_shipping_bench a 50 MB program, so its figures
// measure shipping a binary of that size to a node. Not zero-filled in the file: the first byte
// is set, so the array lies in .rodata (bytes in the file), not .bss.
extern const unsigned char kCodePadding[50 << 20];
const unsigned char kCodePadding[50 << 20] = {1};
