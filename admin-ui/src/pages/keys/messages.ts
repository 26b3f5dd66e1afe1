/** Strings of the keys page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'API keys',
};

export const zh: typeof en = {
  title: 'API 密钥',
};
