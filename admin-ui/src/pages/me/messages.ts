/** Strings of the me page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'My keys',
};

export const zh: typeof en = {
  title: '我的密钥',
};
