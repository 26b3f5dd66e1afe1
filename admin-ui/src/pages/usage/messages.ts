/** Strings of the usage page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Usage and requests',
};

export const zh: typeof en = {
  title: '用量与请求',
};
