exports.test = async (event) => ({ version: 1, foo: process.env.foo });
