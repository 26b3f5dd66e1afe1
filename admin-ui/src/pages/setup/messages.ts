/** Strings of the setup page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Client setup',
};

export const zh: typeof en = {
  title: '客户端配置',
};
