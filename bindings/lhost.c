/* lhost.c — the pedlab executable (placeholder while the host is written). */
#include <stdio.h>
int main(void) { puts("pedlab"); return 0; }
